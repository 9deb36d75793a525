import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { readDeviceCredentials } from '../../../src/config/secrets.js';
import { openSshSession } from '../../../src/devices/ssh/session.js';
import type { DeviceConfig } from '../../../src/devices/types.js';
import { createLogger } from '../../../src/logging.js';
import { startFleet } from '../../../src/simulator/fleet/fleet.js';
import type { FleetDeviceOptions } from '../../../src/simulator/fleet/options.js';
import { sessionContextFor, temporaryTrustStore } from '../../support/device-fleet.js';

/**
 * The order of SSH login methods against one simulated RouterOS 7 device, whose log shows every
 * rejected login attempt.
 */

const run = promisify(execFile);

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

type LoggedAttempt = { msg: string; method?: string };

/** Starts one SSH device with `options`; returns its inventory entry and its rejected logins. */
async function startDevice(options: FleetDeviceOptions) {
  const rejected: LoggedAttempt[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as LoggedAttempt;
        if (entry.msg === 'ssh authentication failed') {
          rejected.push(entry);
        }
      }

      done();
    },
  });
  const logger = createLogger({ name: 'simulator', destination });
  const fleet = await startFleet({
    fleet: [{ id: 'keyed', transport: 'ssh', version: '7.18.2', ...options }],
    logger,
  });
  cleanups.push(() => fleet.close());
  const config: DeviceConfig = fleet.device('keyed').toDeviceConfig();
  return { config, rejected };
}

async function generatedKeyFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-login-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  return keyFile;
}

describe('SSH login order', () => {
  it('tries the key before the password', async () => {
    const { config, rejected } = await startDevice({ keyFile: await generatedKeyFile() });
    const trust = await temporaryTrustStore();
    cleanups.push(() => trust.remove());

    const context = await sessionContextFor(config, trust.store, {
      credentials: await readDeviceCredentials(config),
    });
    const session = await openSshSession(config, context);
    cleanups.push(() => session.close());
    expect(context.credentials.password).toBeDefined();
    expect(rejected).toEqual([]);
  });

  it('falls back to the password', async () => {
    const { config, rejected } = await startDevice({});
    const trust = await temporaryTrustStore();
    cleanups.push(() => trust.remove());
    const keyFile = await generatedKeyFile();

    const withKey: DeviceConfig = { ...config, keyFile };
    const context = await sessionContextFor(withKey, trust.store, {
      credentials: await readDeviceCredentials(withKey),
    });
    const session = await openSshSession(withKey, context);
    cleanups.push(() => session.close());
    expect(session.facts.version).toBe('7.18.2 (stable)');
    expect(rejected.map((entry) => entry.method)).toEqual(['publickey']);
  });
});
