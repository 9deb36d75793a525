import { systemClock } from '../../src/clock.js';
import { readDeviceCredentials } from '../../src/config/secrets.js';
import type { RunDefaults } from '../../src/config/types.js';
import type { OpenSession, Transport } from '../../src/devices/types.js';
import { Runner } from '../../src/jobs/runner.js';
import type { Job, Run } from '../../src/jobs/types.js';
import { createSilentLogger } from '../../src/logging.js';
import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetDeviceOptions } from '../../src/simulator/fleet/options.js';
import { RouterOsDevice } from '../../src/simulator/model/device.js';
import type { Store } from '../../src/store/store.js';
import { TEST_LIMITS } from './job-engine.js';
import { openTempStore } from './temp-store.js';

/** Name of the device global that `countedScript` increments. */
export const RUN_COUNTER = 'edgeAgentTestRuns';

/**
 * Prefixes `body` with lines that count, on the device itself, how often the script ran. Other
 * commands a transport sends (facts, `/export`) do not touch the counter.
 */
export function countedScript(body: string): string {
  return [
    `:global ${RUN_COUNTER}`,
    `:if ([:typeof $${RUN_COUNTER}] != "num") do={:set ${RUN_COUNTER} 0}`,
    `:set ${RUN_COUNTER} ($${RUN_COUNTER} + 1)`,
    body,
  ].join('\r\n');
}

/** A fleet of simulated devices and a runner that reaches them through a real transport. */
export type FleetEngine = {
  fleet: Fleet;
  store: Store;
  runner: Runner;
  /** How often `countedScript` scripts ran on the device. */
  scriptRuns(deviceId: string): number;
  /** Stores and launches a job now, queues its runs and waits until the runner is idle. */
  runJob(job: Job): Promise<Run[]>;
  /** Stores and launches a job now and queues its runs, without waiting. */
  startJob(job: Job): void;
  dispose(): Promise<void>;
};

export type FleetEngineOptions = {
  devices: number;
  transport: Transport;
  openSession: OpenSession;
  limits?: Partial<RunDefaults>;
  deviceOptions?: FleetDeviceOptions;
};

export async function startFleetEngine(options: FleetEngineOptions): Promise<FleetEngine> {
  const fleet = await startFleet({
    devices: options.devices,
    defaults: { transport: options.transport, ...options.deviceOptions },
  });
  const store = openTempStore();
  const devices = fleet.inventory();
  const runner = new Runner({
    store,
    devices,
    openSession: options.openSession,
    readCredentials: readDeviceCredentials,
    clock: systemClock,
    logger: createSilentLogger(),
    limits: { ...TEST_LIMITS, ...options.limits },
    storeRetryMs: 200,
  });
  const ids = devices.map((device) => device.id);

  const startJob = (job: Job): void => {
    store.acceptJob(job);
    const pending = store.jobs.launch(job.id, ids, systemClock.now());
    const stored = store.jobs.get(job.id);
    if (stored !== undefined) {
      runner.enqueue(stored, pending);
    }
  };

  return {
    fleet,
    store,
    runner,
    scriptRuns(deviceId) {
      const model = fleet.device(deviceId).model;
      const value = model instanceof RouterOsDevice ? model.globals.get(RUN_COUNTER) : undefined;
      return value?.type === 'num' ? Number(value.value) : 0;
    },
    startJob,
    async runJob(job) {
      startJob(job);
      await runner.whenIdle();
      return store.runs.list(job.id);
    },
    async dispose() {
      await runner.stop();
      store.dispose();
      await fleet.close();
    },
  };
}

/**
 * Returns the largest number of runs whose `[startedAt, finishedAt)` intervals overlap, from the
 * times the runner stored.
 */
export function maxOverlap(runs: readonly Run[]): number {
  const edges: Array<[time: number, change: number]> = [];
  for (const run of runs) {
    if (run.startedAt !== undefined && run.finishedAt !== undefined) {
      edges.push([run.startedAt, 1], [run.finishedAt, -1]);
    }
  }

  // At equal times an end sorts before a start, because the intervals are half-open.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, change] of edges) {
    current += change;
    max = Math.max(max, current);
  }

  return max;
}
