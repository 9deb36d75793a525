import type { SecureContextOptions } from 'node:tls';

import { systemClock } from '../../src/clock.js';
import { createSilentLogger } from '../../src/logging.js';
import { ApiServer } from '../../src/simulator/api/server.js';
import { DeviceFaults, type FaultName } from '../../src/simulator/fleet/faults.js';
import { UserDirectory } from '../../src/simulator/fleet/users.js';
import type { SimulatedDevice } from '../../src/simulator/model/types.js';
import { parseVersion } from '../../src/simulator/model/version.js';

export const TEST_USER = 'admin';

export const TEST_PASSWORD = 'p\xe4ss word=1';

/**
 * Stands in for the device model in tests of login, framing and TLS, which never reach the
 * model. Any command fails the test.
 */
export function unusedDevice(versionText: string): SimulatedDevice {
  const fail = (): never => {
    throw new Error('this test does not expect the device model to be called');
  };

  return {
    version: parseVersion(versionText),
    identity: 'unused',
    executions: 0,
    execute: fail,
    runScript: fail,
    onReboot: () => undefined,
  };
}

export type ApiServiceOptions = {
  version: string;
  device?: SimulatedDevice;
  faults?: FaultName[];
  tls?: SecureContextOptions;
  isAllowed?: (address: string) => boolean;
  onReboot?: () => void;
};

/** Starts one API service on 127.0.0.1 port 0 for a device with one user. */
export async function startApiService(options: ApiServiceOptions) {
  const faults = new DeviceFaults(options.faults ?? []);
  const server = new ApiServer({
    host: '127.0.0.1',
    port: 0,
    tls: options.tls,
    version: parseVersion(options.version),
    device: options.device ?? unusedDevice(options.version),
    users: new UserDirectory([
      {
        name: TEST_USER,
        password: TEST_PASSWORD,
        authorizedKeys: [],
        alwaysAllowPasswordLogin: false,
      },
    ]),
    faults,
    clock: systemClock,
    logger: createSilentLogger(),
    reboot: () => {
      server.disconnectAll();
      options.onReboot?.();
    },
    ...(options.isAllowed === undefined ? {} : { isAllowed: options.isAllowed }),
  });
  const port = await server.listen();
  return { server, port, faults };
}
