import path from 'node:path';

import { readDeviceCredentials } from '../../src/config/secrets.js';
import type { RunDefaults } from '../../src/config/types.js';
import type { DeviceConfig, OpenSession } from '../../src/devices/types.js';
import { AgentError } from '../../src/errors.js';
import { Runner } from '../../src/jobs/runner.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createSilentLogger } from '../../src/logging.js';
import type { Store } from '../../src/store/store.js';
import { makeDevice } from './devices.js';
import { TEST_EPOCH } from './jobs.js';
import { ManualClock } from './manual-clock.js';
import { openTempStore } from './temp-store.js';

/** Run limits for tests: the production defaults with short timeouts. */
export const TEST_LIMITS: RunDefaults = {
  concurrency: 16,
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
  runTimeoutMs: 10_000,
  outputCapBytes: 256 * 1024,
  shutdownDrainMs: 1000,
};

/**
 * An OpenSession for tests whose runs must end before a device is contacted. A run that gets
 * this far fails with UNSUPPORTED, which such tests assert never happens.
 */
export const noTransport: OpenSession = async (device) => {
  throw new AgentError(
    'UNSUPPORTED',
    `no transport in this test; device ${device.id} was contacted`,
  );
};

/** Devices whose password file does not exist, so every run fails with SECRET_UNREADABLE. */
export function devicesWithoutSecrets(ids: readonly string[], dir: string): DeviceConfig[] {
  return ids.map((id) => makeDevice(id, { passwordFile: path.join(dir, `missing-${id}`) }));
}

export type JobEngine = {
  store: Store;
  runner: Runner;
  scheduler: Scheduler;
  clock: ManualClock;
  dispose(): Promise<void>;
};

export type JobEngineOptions = {
  devices: readonly DeviceConfig[];
  openSession?: OpenSession;
  limits?: Partial<RunDefaults>;
  clock?: ManualClock;
  store?: Store;
  storeRetryMs?: number;
};

/** Wires a store, runner and scheduler as the daemon does, on a temporary store by default. */
export function makeJobEngine(options: JobEngineOptions): JobEngine {
  const clock = options.clock ?? new ManualClock(TEST_EPOCH);
  const temporary = options.store === undefined ? openTempStore({ clock }) : undefined;
  const store = options.store ?? (temporary as Store);
  const logger = createSilentLogger();
  const retry = options.storeRetryMs === undefined ? {} : { storeRetryMs: options.storeRetryMs };
  const runner = new Runner({
    store,
    devices: options.devices,
    openSession: options.openSession ?? noTransport,
    readCredentials: readDeviceCredentials,
    clock,
    logger,
    limits: { ...TEST_LIMITS, ...options.limits },
    ...retry,
  });
  const scheduler = new Scheduler({ store, runner, clock, logger, ...retry });

  return {
    store,
    runner,
    scheduler,
    clock,
    async dispose() {
      scheduler.stop();
      await runner.stop();
      temporary?.dispose();
    },
  };
}
