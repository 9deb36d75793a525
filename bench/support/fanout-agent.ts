/**
 * Child process that runs benchmark jobs the way the daemon does: a real store file, the
 * Scheduler and Runner, the device transports and an info-level log file. It runs the same
 * script on every device of an inventory, once per repetition, and writes what it measured to
 * a JSON file. The parent measures it from outside too (wall time, CPU of the process tree).
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { pino } from 'pino';

import { systemClock } from '../../src/clock.js';
import { CONFIG_DEFAULTS } from '../../src/config/build.js';
import { SecretCache } from '../../src/config/secret-cache.js';
import { openSession } from '../../src/devices/open-session.js';
import type { DeviceConfig } from '../../src/devices/types.js';
import { Runner } from '../../src/jobs/runner.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logging.js';
import { Store } from '../../src/store/store.js';
import { benchmarkJob } from './bench-job.js';

/** The work the parent requests, as JSON in the first argument. */
export type FanoutPlan = {
  inventoryFile: string;
  storeFile: string;
  logFile: string;
  resultFile: string;
  script: string;
  concurrency: number;
  repetitions: number;
};

/** One run as the agent stored it. */
export type StoredRunSummary = {
  deviceId: string;
  state: string;
  reasonCode?: string;
  output: string;
};

/** One job over the whole inventory. */
export type FanoutRepetition = {
  /** From handing the job to the scheduler until the runner is idle, in milliseconds. */
  wallMs: number;
  /** CPU time of this process over the same interval, user and system, in milliseconds. */
  cpuMs: number;
  /** Share of the interval the event loop was busy, from 0 to 1. */
  eventLoopUtilization: number;
  runs: StoredRunSummary[];
};

export type FanoutResult = {
  /** From process start to the first job, in milliseconds: loading code, opening the store. */
  setupMs: number;
  repetitions: FanoutRepetition[];
  /** Peak resident set size of this process, in bytes. */
  peakRssBytes: number;
};

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '{}') as FanoutPlan;
  const devices = JSON.parse(readFileSync(plan.inventoryFile, 'utf8')) as DeviceConfig[];
  const destination = pino.destination({ dest: plan.logFile, sync: false });
  const logger = createLogger({ name: 'edge-agent', level: 'info', destination });
  const store = Store.open(plan.storeFile, { clock: systemClock });
  const runner = new Runner({
    store,
    devices,
    openSession,
    readCredentials: new SecretCache({ clock: systemClock }).readCredentials,
    clock: systemClock,
    logger,
    limits: { ...CONFIG_DEFAULTS.runs, concurrency: plan.concurrency },
  });
  const scheduler = new Scheduler({ store, runner, clock: systemClock, logger });
  scheduler.start();
  const setupMs = performance.now();

  const repetitions: FanoutRepetition[] = [];
  for (let index = 0; index < plan.repetitions; index++) {
    repetitions.push(await runOnce(plan.script, store, scheduler, runner));
  }

  scheduler.stop();
  await runner.stop();
  store.close();
  destination.flushSync();

  const result: FanoutResult = {
    setupMs,
    repetitions,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  writeFileSync(plan.resultFile, JSON.stringify(result));
}

async function runOnce(
  script: string,
  store: Store,
  scheduler: Scheduler,
  runner: Runner,
): Promise<FanoutRepetition> {
  const job = benchmarkJob(script, systemClock.now());
  const cpuBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const started = performance.now();

  scheduler.accept(job);
  await runner.whenIdle();

  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const loop = performance.eventLoopUtilization(loopBefore);
  const runs = store.runs.list(job.id).map((run) => ({
    deviceId: run.deviceId,
    state: run.state,
    ...(run.reasonCode === undefined ? {} : { reasonCode: run.reasonCode }),
    output: run.output ?? run.reasonMessage ?? '',
  }));
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    eventLoopUtilization: loop.utilization,
    runs,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`fanout-agent: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
