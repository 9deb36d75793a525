import type { Client, ClientChannel } from 'ssh2';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import type { Fleet } from '../../../src/simulator/fleet/fleet.js';
import { MAX_INBOUND_PACKET_BYTES } from '../../../src/simulator/ssh/packet-limit.js';
import { FleetFixture, passwordOf } from '../../support/fleet-fixture.js';
import { ManualClock } from '../../support/manual-clock.js';
import { connectSsh, execOn } from '../../support/ssh-service.js';

const fixture = new FleetFixture();

afterEach(() => fixture.cleanup());

afterAll(() => fixture.dispose());

type Compression = 'none' | 'zlib@openssh.com' | 'zlib';

async function connect(fleet: Fleet, compress: Compression = 'none'): Promise<Client> {
  const client = await connectSsh(fleet.inventory()[0]?.ports.ssh ?? 0, {
    username: 'admin',
    password: await passwordOf(fleet),
    algorithms: { compress: [compress] },
  });
  // The fleet closing the connection at clean-up is expected.
  client.on('error', () => undefined);
  fixture.defer(() => client.end());
  return client;
}

/** Sends a command as bytes; ssh2 writes a Buffer command unchanged. */
function execBytes(client: Client, command: Buffer) {
  return execOn(client, command as unknown as string);
}

function openExec(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel)));
  });
}

/** Builds a script of exactly `bytes` bytes that prints the length of a string literal in it. */
function scriptOfLength(bytes: number): string {
  const frame = ':put [:len ""]';
  return `:put [:len "${'x'.repeat(bytes - frame.length)}"]`;
}

/** Lets the device's promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('SSH exec command bytes', () => {
  // 0xF6 is `ö` in windows-1252; 0xFF, a lone 0x80 and 0xC3 before `d` are invalid UTF-8;
  // 0xC3 0xB6 is `ö` in UTF-8 and must stay two bytes.
  const name = Buffer.from([0x61, 0xf6, 0x62, 0xc3, 0xb6, 0x63, 0xff, 0x80, 0xc3, 0x64]);
  const command = Buffer.concat([
    Buffer.from('/system identity set name="'),
    name,
    Buffer.from('"'),
  ]);

  it.each<Compression>(['none', 'zlib@openssh.com', 'zlib'])(
    'reach the device unchanged with compression %s',
    async (compress) => {
      const fleet = await fixture.start();
      const client = await connect(fleet, compress);

      await execBytes(client, command);

      expect(fleet.device('router-0001').model.identity).toBe(name.toString('latin1'));
    },
  );
});

describe('SSH exec channel close', () => {
  const script = ':delay 30s; :put "after"; /system identity set name=after-delay';

  it.each([
    ['channel', (_client: Client, channel: { close(): void }) => channel.close()],
    ['connection', (client: Client) => client.end()],
  ] as const)('closing the %s aborts the script', async (_target, close) => {
    const clock = new ManualClock();
    const fleet = await fixture.start({ clock });
    const model = fleet.device('router-0001').model;
    const client = await connect(fleet);
    const output: Buffer[] = [];
    const channel = await openExec(client, script);
    channel.on('data', (chunk: Buffer) => output.push(chunk));

    await clock.waitForTimers(1);
    close(client, channel);
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(0), { timeout: 5000 });
    clock.advance(31_000);
    await settle();

    expect(model.executions).toBe(1);
    expect(model.identity).toBe('router-0001');
    expect(Buffer.concat(output).toString('latin1')).toBe('');
  });
});

describe('SSH exec command size', () => {
  it('runs a 64 KiB script', async () => {
    const fleet = await fixture.start();
    const client = await connect(fleet);

    const result = await execOn(client, scriptOfLength(64 * 1024));

    expect(result.stdout).toBe(`${64 * 1024 - 14}\r\n`);
  });

  it('runs a 64 KiB script on RouterOS 6 ciphers', async () => {
    const fleet = await fixture.start({ defaults: { version: '6.49.10' } });
    const client = await connect(fleet);

    const result = await execOn(client, scriptOfLength(64 * 1024));

    expect(result.stdout).toBe(`${64 * 1024 - 14}\r\n`);
  });

  it('drops a command over 256 KiB', async () => {
    const fleet = await fixture.start();
    const client = await connect(fleet);

    const result = execOn(client, scriptOfLength(MAX_INBOUND_PACKET_BYTES));

    await expect(result).rejects.toThrow();
    expect(fleet.device('router-0001').model.executions).toBe(0);
  });
});
