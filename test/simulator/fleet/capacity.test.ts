import { connect as connectTls } from 'node:tls';

import { afterAll, describe, expect, it } from 'vitest';

import type { Fleet } from '../../../src/simulator/fleet/fleet.js';
import { FleetFixture, passwordOf } from '../../support/fleet-fixture.js';
import { connectSsh, execOn } from '../../support/ssh-service.js';

const DEVICES = 1000;

const fixture = new FleetFixture();

afterAll(() => fixture.dispose());

/** Picks every `step`-th device, plus the last one. */
function sample(fleet: Fleet, step: number): number[] {
  const indexes: number[] = [];
  for (let index = 0; index < fleet.devices.length; index += step) {
    indexes.push(index);
  }

  indexes.push(fleet.devices.length - 1);
  return indexes;
}

describe('fleet capacity', () => {
  it('serves 1000 devices from one process', async () => {
    const fleet = await fixture.start({ devices: DEVICES });
    const password = await passwordOf(fleet);
    const inventory = fleet.inventory();
    const identities: string[] = [];

    for (const index of sample(fleet, 50)) {
      const client = await fixture.connect(inventory[index]?.ports.api ?? 0);
      await client.call(['/login', '=name=admin', `=password=${password}`]);
      const [row] = await client.call(['/system/identity/print']);
      identities.push(row?.[1] ?? '');
      client.close();
    }

    const last = inventory[DEVICES - 1];
    const ssh = await connectSsh(last?.ports.ssh ?? 0, { username: 'admin', password });
    const exec = await execOn(ssh, ':put [/system identity get name]');
    ssh.end();
    const tlsCipher = await new Promise<string>((resolve, reject) => {
      const socket = connectTls(
        { host: '127.0.0.1', port: last?.ports.apiSsl ?? 0, rejectUnauthorized: false },
        () => {
          resolve(socket.getCipher().name);
          socket.destroy();
        },
      );
      socket.once('error', reject);
    });

    expect(new Set(inventory.flatMap((device) => Object.values(device.ports))).size).toBe(
      3 * DEVICES,
    );
    expect(identities).toEqual(sample(fleet, 50).map((index) => `=name=${inventory[index]?.id}`));
    expect(exec.stdout).toBe('router-1000\r\n');
    expect(tlsCipher).not.toBe('');

    await fixture.cleanup();
    expect(fleet.devices.every((device) => device.state === 'stopped')).toBe(true);
  });
});
