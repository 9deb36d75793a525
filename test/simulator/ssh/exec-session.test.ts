import type { Client } from 'ssh2';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { Fleet } from '../../../src/simulator/fleet/fleet.js';
import { FleetFixture, passwordOf } from '../../support/fleet-fixture.js';
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
