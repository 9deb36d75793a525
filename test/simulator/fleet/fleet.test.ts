import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import ssh2, { type ParsedKey } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';

import { ANONYMOUS_CIPHERS } from '../../../src/simulator/api/tls.js';
import { type Fleet, startFleet } from '../../../src/simulator/fleet/fleet.js';
import type { FleetOptions } from '../../../src/simulator/fleet/options.js';
import { fingerprintOf } from '../../../src/simulator/ssh/host-keys.js';
import { RawApiClient } from '../../support/api-client.js';
import { ManualClock } from '../../support/manual-clock.js';
import { connectSsh, execOn } from '../../support/ssh-service.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function start(options: FleetOptions = {}): Promise<Fleet> {
  const fleet = await startFleet(options);
  cleanups.push(() => fleet.close());
  return fleet;
}

async function connectApi(port: number, host = '127.0.0.1') {
  const client = await RawApiClient.connect(port, host);
  cleanups.push(() => client.close());
  return client;
}

async function passwordOf(fleet: Fleet, index = 0): Promise<string> {
  const file = fleet.inventory()[index]?.passwordFile ?? '';
  return (await readFile(file, 'utf8')).trimEnd();
}

/** Resolves with the connect error code, or `connected`. */
function probe(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('startFleet', () => {
  it('lists devices in inventory shape', async () => {
    const fleet = await start({ devices: 2 });
    const [first] = fleet.inventory();

    expect(fleet.inventory()).toHaveLength(2);
    expect(first?.id).toBe('router-0001');
    expect(first?.host).toBe('127.0.0.1');
    expect(first?.transport).toBe('api');
    expect(first?.username).toBe('admin');
    expect(first?.codePage).toBe('windows-1252');
    expect(first?.tls.mode).toBe('certificate');
    expect(first?.tls.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(first?.ssh.loginOptions).toBe('ct');
    expect(first?.ssh.hostKey).toMatch(/^SHA256:/);
    expect(first?.ports.api).toBeGreaterThan(0);
  });

  it('logs in with the generated password', async () => {
    const fleet = await start({ devices: 2 });
    const device = fleet.inventory()[1];
    const client = await connectApi(device?.ports.api ?? 0);

    const replies = await client.call([
      '/login',
      '=name=admin',
      `=password=${await passwordOf(fleet, 1)}`,
    ]);

    expect(replies).toEqual([['!done']]);
  });

  it('writes the password file mode 0600', async () => {
    const fleet = await start();
    const file = fleet.inventory()[0]?.passwordFile ?? '';

    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('serves anonymous API-SSL when asked', async () => {
    const fleet = await start({ defaults: { tlsMode: 'anonymous' } });
    const device = fleet.inventory()[0];
    const client = await RawApiClient.connect(device?.ports.apiSsl ?? 0, '127.0.0.1', {
      ciphers: ANONYMOUS_CIPHERS,
      maxVersion: 'TLSv1.2',
      rejectUnauthorized: false,
    });
    cleanups.push(() => client.close());

    expect(device?.tls.fingerprint).toBeUndefined();
    expect(
      await client.call(['/login', '=name=admin', `=password=${await passwordOf(fleet)}`]),
    ).toEqual([['!done']]);
  });

  it('gives devices distinct loopback hosts', async () => {
    const fleet = await start({ devices: 3, distinctHosts: true });
    const hosts = fleet.inventory().map((device) => device.host);
    const third = fleet.inventory()[2];

    expect(hosts).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    expect(await probe(third?.ports.api ?? 0, '127.0.1.3')).toBe('connected');
  });

  it('leaves filtered clients unanswered', async () => {
    const fleet = await start({ defaults: { allowedAddresses: ['192.0.2.0/24'] } });
    const client = await connectApi(fleet.inventory()[0]?.ports.api ?? 0);

    client.send(['/login']);

    expect(await client.isQuietFor(300)).toBe(true);
  });

  it('serves allowed clients', async () => {
    const fleet = await start({ defaults: { allowedAddresses: ['127.0.0.0/8'] } });
    const client = await connectApi(fleet.inventory()[0]?.ports.api ?? 0);

    expect((await client.call(['/login']))[0]?.[0]).toBe('!done');
  });

  it('runs only the services asked for', async () => {
    const fleet = await start({ defaults: { services: ['ssh'] } });
    const device = fleet.device('router-0001');

    expect(device.ports.api).toBe(0);
    expect(device.ports.ssh).toBeGreaterThan(0);
  });

  it('rejects a duplicate device id', async () => {
    const failure = startFleet({ fleet: [{ id: 'same' }, { id: 'same' }] });

    await expect(failure).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('throws for an unknown device', async () => {
    const fleet = await start();

    expect(() => fleet.device('nope')).toThrow(
      expect.objectContaining({ code: 'DEVICE_NOT_FOUND' }),
    );
  });
});

/** Connects over SSH and returns the fingerprint of the host key the server presented. */
async function presentedHostKey(port: number, password: string): Promise<string> {
  let presented = '';
  const client = await connectSsh(port, {
    username: 'admin',
    password,
    hostVerifier: (key: Buffer) => {
      presented = fingerprintOf(ssh2.utils.parseKey(key) as ParsedKey);
      return true;
    },
  });
  client.end();
  return presented;
}

describe('fleet device lifecycle', () => {
  it('stops and starts on the same ports', async () => {
    const fleet = await start();
    const device = fleet.device('router-0001');
    const port = device.ports.api;

    await device.stop();
    const whileStopped = await probe(port);
    await device.start();

    expect(whileStopped).toBe('ECONNREFUSED');
    expect(device.ports.api).toBe(port);
    expect(await probe(port)).toBe('connected');
  });

  it('reboots on the reboot fault', async () => {
    // The reboot delay runs on a manual clock, so the device stays down until the test moves it.
    const clock = new ManualClock();
    const fleet = await start({ clock, defaults: { faults: ['reboot'], rebootDelayMs: 300 } });
    const device = fleet.device('router-0001');
    const client = await connectApi(device.ports.api);
    await client.call(['/login', '=name=admin', `=password=${await passwordOf(fleet)}`]);

    client.send(['/system/resource/print']);
    const reply = await client.next();
    const whileDown = await probe(device.ports.api);
    const backUp = device.whenUp();
    await clock.waitForTimers();
    clock.advance(300);
    await backUp;

    expect(reply).toBeUndefined();
    expect(whileDown).toBe('ECONNREFUSED');
    expect(device.faults.has('reboot')).toBe(false);
    expect(await probe(device.ports.api)).toBe('connected');
  });

  it('drops SSH sessions on reboot', async () => {
    const fleet = await start({ defaults: { rebootDelayMs: 100 } });
    const device = fleet.device('router-0001');
    const client = await connectSsh(device.ports.ssh, {
      username: 'admin',
      password: await passwordOf(fleet),
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    device.reboot();
    await closed;
    await device.whenUp();

    expect(device.state).toBe('up');
  });
});

describe('fleet credentials', () => {
  it('accepts a key from authorized keys text', async () => {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const fleet = await start({ defaults: { authorizedKeys: `# test key\n${pair.public}\n` } });

    const client = await connectSsh(fleet.inventory()[0]?.ports.ssh ?? 0, {
      username: 'admin+ct',
      privateKey: pair.private,
    });
    const result = await execOn(client, ':put ok');
    client.end();

    expect(result.stdout).toBe('ok\r\n');
  });

  it('rejects a malformed authorized key', async () => {
    await expect(
      startFleet({ defaults: { authorizedKeys: 'ssh-ed25519 not-base64' } }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('fleet state directory', () => {
  it('keeps password and keys across restarts', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'sim-state-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));

    const first = await start({ stateDir });
    const before = first.inventory()[0];
    const password = await passwordOf(first);
    await first.close();
    const second = await start({ stateDir });
    const after = second.inventory()[0];

    expect(await passwordOf(second)).toBe(password);
    expect(after?.ssh.hostKey).toBe(before?.ssh.hostKey);
    expect(after?.tls.fingerprint).toBe(before?.tls.fingerprint);
  });

  it('replaces one device host key', async () => {
    const fleet = await start({ devices: 2 });
    const before = fleet.inventory().map((device) => device.ssh.hostKey);

    const replaced = await fleet.device('router-0002').replaceHostKeys();
    const after = fleet.inventory().map((device) => device.ssh.hostKey);

    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBe(replaced);
    expect(after[1]).not.toBe(before[1]);
  });

  it('presents the replaced host key', async () => {
    const fleet = await start();
    const port = fleet.inventory()[0]?.ports.ssh ?? 0;
    const password = await passwordOf(fleet);

    const before = await presentedHostKey(port, password);
    const listed = fleet.inventory()[0]?.ssh.hostKey;
    const replaced = await fleet.device('router-0001').replaceHostKeys();
    const after = await presentedHostKey(port, password);

    expect(before).toBe(listed);
    expect(after).toBe(replaced);
    expect(after).not.toBe(before);
  });

  it('removes its own temporary directory', async () => {
    const fleet = await startFleet();

    await fleet.close();

    await expect(stat(fleet.stateDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
