import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { RouterOSAPI } from 'node-routeros';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { Fleet } from '../../../src/simulator/fleet/fleet.js';
import { FleetFixture, passwordOf } from '../../support/fleet-fixture.js';

const run = promisify(execFile);

const CLIENT_SCRIPT = fileURLToPath(
  new URL('../../support/node-routeros-command.cjs', import.meta.url),
);

const fixture = new FleetFixture();

afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

async function connectNodeRouteros(fleet: Fleet): Promise<RouterOSAPI> {
  const device = fleet.inventory()[0];
  const api = new RouterOSAPI({
    host: '127.0.0.1',
    port: device?.ports.api ?? 0,
    user: device?.username ?? '',
    password: await passwordOf(fleet),
    timeout: 5,
  });
  // node-routeros emits its idle timeout as `error`; without a listener Node would throw.
  api.on('error', () => undefined);
  await api.connect();
  fixture.defer(() => api.close());
  return api;
}

/** Runs node-routeros in a child process; resolves with its exit code and output. */
async function runInChild(fleet: Fleet, words: string[]) {
  const device = fleet.inventory()[0];
  const args = [
    CLIENT_SCRIPT,
    '127.0.0.1',
    String(device?.ports.api ?? 0),
    device?.username ?? '',
    device?.passwordFile ?? '',
    ...words,
  ];
  try {
    const { stdout } = await run(process.execPath, args, { timeout: 15_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('node-routeros 1.6.9', () => {
  it.each(['7.17.2', '7.18.2'])('logs in and prints on %s', async (version) => {
    const fleet = await fixture.start({ defaults: { version } });
    const api = await connectNodeRouteros(fleet);

    const rows = await api.write('/system/identity/print');

    expect(rows).toEqual([{ name: 'router-0001' }]);
  });

  it('logs in with MD5 on 6.42', async () => {
    const fleet = await fixture.start({ defaults: { version: '6.42.12' } });
    const api = await connectNodeRouteros(fleet);

    expect(await api.write('/system/identity/print')).toEqual([{ name: 'router-0001' }]);
  });

  it('reads an empty print on 7.17', async () => {
    const fleet = await fixture.start({ defaults: { version: '7.17.2' } });
    const api = await connectNodeRouteros(fleet);

    expect(await api.write('/ip/address/print', ['?address=192.0.2.99/24'])).toEqual([]);
  });

  it('runs the empty print in a child on 7.17', async () => {
    const fleet = await fixture.start({ defaults: { version: '7.17.2' } });

    const result = await runInChild(fleet, ['/ip/address/print', '?address=192.0.2.99/24']);

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('[]\n');
  });

  it('crashes on !empty from 7.18', async () => {
    const fleet = await fixture.start({ defaults: { version: '7.18.2' } });

    const result = await runInChild(fleet, ['/ip/address/print', '?address=192.0.2.99/24']);

    // The throw happens inside the socket data handler, so the process dies with an uncaught
    // exception (exit code 1) instead of rejecting the promise (exit code 3).
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Tried to process unknown reply');
    expect(result.stdout).toBe('');
  });
});
