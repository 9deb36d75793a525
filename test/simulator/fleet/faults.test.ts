import { connect } from 'node:net';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  DeviceFaults,
  FAULT_DESCRIPTIONS,
  FAULT_NAMES,
  parseFaultName,
} from '../../../src/simulator/fleet/faults.js';
import type { FleetOptions } from '../../../src/simulator/fleet/options.js';
import { FleetFixture, passwordOf } from '../../support/fleet-fixture.js';
import { connectSsh, execOn } from '../../support/ssh-service.js';

const fixture = new FleetFixture();

afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

async function loggedIn(options: FleetOptions = {}) {
  const fleet = await fixture.start(options);
  const client = await fixture.login(fleet);
  return { fleet, client, device: fleet.device('router-0001') };
}

async function sshClient(options: FleetOptions = {}) {
  const fleet = await fixture.start(options);
  const client = await connectSsh(fleet.inventory()[0]?.ports.ssh ?? 0, {
    username: 'admin',
    password: await passwordOf(fleet),
  });
  client.on('error', () => undefined);
  fixture.defer(() => client.end());
  return { fleet, client, device: fleet.device('router-0001') };
}

/** Resolves with the first bytes the server sends within `ms`, or an empty buffer. */
function firstBytes(port: number, ms: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.alloc(0));
    }, ms);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(chunk);
    });
    socket.on('error', () => undefined);
  });
}

describe('fault names', () => {
  it('describes every fault', () => {
    expect(Object.keys(FAULT_DESCRIPTIONS).sort()).toEqual([...FAULT_NAMES].sort());
  });

  it('rejects an unknown fault name', () => {
    expect(() => parseFaultName('explode')).toThrow(
      expect.objectContaining({ code: 'USAGE_INVALID' }),
    );
  });

  it('takes a one-shot fault once', () => {
    const faults = new DeviceFaults(['reboot']);

    expect(faults.take('reboot')).toBe(true);
    expect(faults.take('reboot')).toBe(false);
  });
});

describe('latency fault', () => {
  it('delays each reply', async () => {
    const { client, device } = await loggedIn();
    device.faults.settings.latencyMs = 150;

    const started = Date.now();
    await client.call(['/system/identity/print']);

    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 150 - 10);
  });
});

describe('silent fault', () => {
  it('never answers the API', async () => {
    const fleet = await fixture.start({ defaults: { faults: ['silent'] } });
    const client = await fixture.connect(fleet.inventory()[0]?.ports.api ?? 0);

    client.send(['/login']);

    expect(await client.isQuietFor(300)).toBe(true);
  });

  it('sends no SSH identification', async () => {
    const fleet = await fixture.start({ defaults: { faults: ['silent'] } });

    expect((await firstBytes(fleet.inventory()[0]?.ports.ssh ?? 0, 300)).length).toBe(0);
  });

  it('sends no TLS handshake', async () => {
    const fleet = await fixture.start({ defaults: { faults: ['silent'] } });
    const hello = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: fleet.inventory()[0]?.ports.apiSsl ?? 0 });
      socket.on('error', () => undefined);
      // A device that serves TLS replies to a ClientHello with a ServerHello.
      socket.write(Buffer.from('160301000100', 'hex'));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('quiet');
      }, 300);
      socket.once('data', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve('answered');
      });
    });

    expect(hello).toBe('quiet');
  });
});

describe('close-mid-reply fault', () => {
  it('closes the API half way', async () => {
    const { client, device } = await loggedIn();
    let bytes = 0;
    client.socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    device.faults.enable('close-mid-reply');

    const replies = await client.call(['/system/identity/print']);

    expect(replies).toEqual([]);
    expect(bytes).toBeGreaterThan(0);
  });

  it('cuts SSH output half way', async () => {
    const { client, device } = await sshClient();
    device.faults.enable('close-mid-reply');

    const result = await execOn(client, ':put "0123456789abcdef"');

    // 18 bytes with the CRLF, so the first 9 arrive.
    expect(result.stdout).toBe('012345678');
  });
});

describe('fragment fault', () => {
  it('splits replies into small writes', async () => {
    const fleet = await fixture.start({ defaults: { faults: ['fragment'], fragmentBytes: 3 } });
    const client = await fixture.connect(fleet.inventory()[0]?.ports.api ?? 0);
    const chunks: number[] = [];
    client.socket.on('data', (chunk: Buffer) => chunks.push(chunk.length));

    const replies = await client.call([
      '/login',
      '=name=admin',
      `=password=${await passwordOf(fleet)}`,
    ]);

    expect(replies).toEqual([['!done']]);
    // `!done` is 7 bytes on the wire: length, five letters, the empty word.
    expect(chunks).toEqual([3, 3, 1]);
  });

  it('keeps SSH output intact', async () => {
    const { client, device } = await sshClient();
    device.faults.enable('fragment');

    expect((await execOn(client, ':put "fragmented output"')).stdout).toBe('fragmented output\r\n');
  });
});

describe('hang fault', () => {
  it('never finishes an API command', async () => {
    const { client, device } = await loggedIn();
    device.faults.enable('hang');

    client.send(['/system/identity/print', '.tag=h']);
    const quiet = await client.isQuietFor(300);
    client.send(['/cancel', '=tag=h']);

    expect(quiet).toBe(true);
    expect(await client.next()).toEqual(['!trap', '=category=2', '=message=interrupted', '.tag=h']);
    expect(await client.next()).toEqual(['!done', '.tag=h']);
    expect(await client.next()).toEqual(['!done']);
  });

  it('never finishes an SSH exec', async () => {
    const { client, device } = await sshClient();
    device.faults.enable('hang');

    const outcome = await Promise.race([
      execOn(client, ':put 1').then(() => 'finished'),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 300)),
    ]);

    expect(outcome).toBe('still running');
  });
});

describe('fatal fault', () => {
  it('sends !fatal and closes', async () => {
    const { client, device } = await loggedIn();
    device.faults.enable('fatal');

    const replies = await client.call(['/system/identity/print']);
    await client.closed;

    expect(replies).toEqual([['!fatal', device.faults.settings.fatalMessage]]);
  });

  it('disconnects SSH', async () => {
    const { client, device } = await sshClient();
    device.faults.enable('fatal');
    const closed = new Promise<string>((resolve) => client.once('close', () => resolve('closed')));

    void execOn(client, ':put 1').catch(() => undefined);

    expect(await closed).toBe('closed');
  });
});

describe('auth-fail fault', () => {
  it('rejects a correct API login', async () => {
    const fleet = await fixture.start({ defaults: { faults: ['auth-fail'], version: '6.49.10' } });
    const client = await fixture.connect(fleet.inventory()[0]?.ports.api ?? 0);

    const replies = await client.call([
      '/login',
      '=name=admin',
      `=password=${await passwordOf(fleet)}`,
    ]);

    expect(replies).toEqual([['!trap', '=message=invalid user name or password (6)'], ['!done']]);
  });
});

describe('reboot fault', () => {
  it('reboots on SSH exec', async () => {
    const { client, device } = await sshClient({ defaults: { rebootDelayMs: 100 } });
    device.faults.enable('reboot');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    void execOn(client, ':put 1').catch(() => undefined);
    await closed;
    const state = device.state;
    await device.whenUp();

    expect(state).toBe('rebooting');
    expect(device.faults.has('reboot')).toBe(false);
  });
});
