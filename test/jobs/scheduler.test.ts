import { afterEach, describe, expect, it } from 'vitest';

import type { Job, RunState } from '../../src/jobs/types.js';
import { Store } from '../../src/store/store.js';
import { devicesWithoutSecrets, type JobEngine, makeJobEngine } from '../support/job-engine.js';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { ManualClock } from '../support/manual-clock.js';
import { fillDatabase, freeDatabase, makeStoreDirectory } from '../support/temp-store.js';

const MINUTE_MS = 60_000;

const disposables: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const dispose of disposables.splice(0).reverse()) {
    await dispose();
  }
});

function engineFor(
  ids: string[],
  options: Partial<Parameters<typeof makeJobEngine>[0]> = {},
): JobEngine {
  const directory = makeStoreDirectory();
  const engine = makeJobEngine({ devices: devicesWithoutSecrets(ids, directory.dir), ...options });
  disposables.push(() => directory.remove());
  disposables.push(() => engine.dispose());
  return engine;
}

function states(engine: JobEngine, jobId: string): Record<string, RunState> {
  return Object.fromEntries(engine.store.runs.list(jobId).map((run) => [run.deviceId, run.state]));
}

function reasons(engine: JobEngine, jobId: string): Array<string | undefined> {
  return engine.store.runs.list(jobId).map((run) => run.reasonCode);
}

function futureJob(overrides: Partial<Job> = {}): Job {
  return makeJob({
    targets: ['r1', 'r2'],
    launchAt: TEST_EPOCH + 10 * MINUTE_MS,
    expiresAt: TEST_EPOCH + 70 * MINUTE_MS,
    ...overrides,
  });
}

describe('Scheduler launch', () => {
  it('waits for launch time', async () => {
    const engine = engineFor(['r1', 'r2']);
    engine.scheduler.start();
    const job = futureJob();
    engine.scheduler.accept(job);

    engine.clock.advance(10 * MINUTE_MS - 1);
    await engine.runner.whenIdle();

    expect(states(engine, job.id)).toEqual({ r1: 'pending', r2: 'pending' });
    expect(engine.store.jobs.get(job.id)?.launchedAt).toBeUndefined();
  });

  it('starts runs at launch time', async () => {
    const engine = engineFor(['r1', 'r2']);
    engine.scheduler.start();
    const job = futureJob();
    engine.scheduler.accept(job);

    engine.clock.advance(10 * MINUTE_MS);
    await engine.runner.whenIdle();

    expect(engine.store.jobs.get(job.id)?.launchedAt).toBe(TEST_EPOCH + 10 * MINUTE_MS);
    expect(states(engine, job.id)).toEqual({ r1: 'failed', r2: 'failed' });
    expect(reasons(engine, job.id)).toEqual(['SECRET_UNREADABLE', 'SECRET_UNREADABLE']);
    expect(engine.store.jobs.get(job.id)?.verdict).toBe('failed');
  });

  it('launches a past-due job at once', async () => {
    const engine = engineFor(['r1']);
    engine.scheduler.start();
    const job = makeJob({ targets: ['r1'], launchAt: TEST_EPOCH - MINUTE_MS });

    engine.scheduler.accept(job);
    await engine.runner.whenIdle();

    expect(states(engine, job.id)).toEqual({ r1: 'failed' });
  });

  it('waits longer than one Node timer', async () => {
    const engine = engineFor(['r1']);
    engine.scheduler.start();
    const fortyDaysMs = 40 * 24 * 60 * MINUTE_MS;
    const job = futureJob({
      targets: ['r1'],
      launchAt: TEST_EPOCH + fortyDaysMs,
      expiresAt: TEST_EPOCH + fortyDaysMs + MINUTE_MS,
    });
    engine.scheduler.accept(job);

    engine.clock.advance(fortyDaysMs - 1);
    expect(engine.store.jobs.get(job.id)?.launchedAt).toBeUndefined();
    engine.clock.advance(1);
    await engine.runner.whenIdle();

    expect(engine.store.jobs.get(job.id)?.launchedAt).toBe(TEST_EPOCH + fortyDaysMs);
  });

  it('resolves all against inventory at launch', async () => {
    const engine = engineFor(['r1', 'r2', 'r3']);
    engine.scheduler.start();
    const job = futureJob({ targets: 'all' });
    engine.scheduler.accept(job);

    engine.clock.advance(10 * MINUTE_MS);
    await engine.runner.whenIdle();

    expect(Object.keys(states(engine, job.id))).toEqual(['r1', 'r2', 'r3']);
  });

  it('fails runs for devices not in inventory', async () => {
    const engine = engineFor(['r1']);
    engine.scheduler.start();
    const job = makeJob({ targets: ['r1', 'ghost'] });

    engine.scheduler.accept(job);
    await engine.runner.whenIdle();

    expect(engine.store.runs.get(job.id, 'ghost')?.reasonCode).toBe('DEVICE_NOT_FOUND');
  });

  it('ignores a duplicate offer', async () => {
    const engine = engineFor(['r1']);
    engine.scheduler.start();
    const job = futureJob({ targets: ['r1'] });
    engine.scheduler.accept(job);

    expect(engine.scheduler.accept(job)).toBe('duplicate');
    expect(engine.clock.pendingTimers).toBe(2);
  });
});

describe('Scheduler expiry', () => {
  it('expires a job that ended while stopped', async () => {
    const directory = makeStoreDirectory();
    disposables.push(() => directory.remove());
    const clock = new ManualClock(TEST_EPOCH);
    const store = Store.open(directory.file, { clock });
    const job = futureJob();
    store.acceptJob(job);
    clock.advance(2 * 60 * MINUTE_MS);

    const engine = makeJobEngine({
      devices: devicesWithoutSecrets(['r1', 'r2'], directory.dir),
      clock,
      store,
    });
    disposables.push(() => store.close());
    disposables.push(() => engine.dispose());
    engine.scheduler.start();
    await engine.runner.whenIdle();

    expect(reasons(engine, job.id)).toEqual(['EXPIRED', 'EXPIRED']);
    expect(engine.store.jobs.get(job.id)?.verdict).toBe('failed');
  });
});

describe('Scheduler restart', () => {
  it('interrupts running runs and continues pending', async () => {
    const directory = makeStoreDirectory();
    disposables.push(() => directory.remove());
    const clock = new ManualClock(TEST_EPOCH);
    const store = Store.open(directory.file, { clock });
    const job = makeJob({ targets: ['r1', 'r2'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, ['r1', 'r2'], TEST_EPOCH);
    store.runs.start(job.id, 'r1', TEST_EPOCH);

    const engine = makeJobEngine({
      devices: devicesWithoutSecrets(['r1', 'r2'], directory.dir),
      clock,
      store,
    });
    disposables.push(() => store.close());
    disposables.push(() => engine.dispose());
    const started = engine.scheduler.start();
    await engine.runner.whenIdle();

    expect(started).toEqual({ interruptedRuns: 1, unfinishedJobs: 1 });
    expect(states(engine, job.id)).toEqual({ r1: 'interrupted', r2: 'failed' });
    expect(reasons(engine, job.id)).toEqual(['INTERRUPTED', 'SECRET_UNREADABLE']);
  });

  it('reschedules jobs not yet launched', async () => {
    const directory = makeStoreDirectory();
    disposables.push(() => directory.remove());
    const clock = new ManualClock(TEST_EPOCH);
    const store = Store.open(directory.file, { clock });
    const job = futureJob();
    store.acceptJob(job);

    const engine = makeJobEngine({
      devices: devicesWithoutSecrets(['r1', 'r2'], directory.dir),
      clock,
      store,
    });
    disposables.push(() => store.close());
    disposables.push(() => engine.dispose());
    engine.scheduler.start();
    clock.advance(10 * MINUTE_MS);
    await engine.runner.whenIdle();

    expect(engine.store.jobs.get(job.id)?.launchedAt).toBe(TEST_EPOCH + 10 * MINUTE_MS);
  });
});

describe('Scheduler cancellation', () => {
  it('cancels a job before launch', async () => {
    const engine = engineFor(['r1', 'r2']);
    engine.scheduler.start();
    const job = futureJob();
    engine.scheduler.accept(job);

    engine.scheduler.cancel(job.id);
    engine.clock.advance(20 * MINUTE_MS);
    await engine.runner.whenIdle();

    expect(states(engine, job.id)).toEqual({ r1: 'cancelled', r2: 'cancelled' });
    expect(engine.clock.pendingTimers).toBe(0);
  });
});

describe('Runner maxErrors', () => {
  it('skips remaining runs after max errors', async () => {
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const engine = engineFor(ids);
    engine.scheduler.start();
    const job = makeJob({ targets: ids, limits: { maxConcurrency: 1, maxErrors: 2 } });

    engine.scheduler.accept(job);
    await engine.runner.whenIdle();

    expect(states(engine, job.id)).toEqual({
      r1: 'failed',
      r2: 'failed',
      r3: 'skipped',
      r4: 'skipped',
      r5: 'skipped',
    });
    expect(reasons(engine, job.id).slice(2)).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED']);
  });
});

describe('Scheduler on a full store', () => {
  it('retries the launch until space returns', async () => {
    // Launching an all job on this many devices writes more than a page of runs and events.
    const ids = Array.from({ length: 400 }, (_, index) => `router-${index}`);
    const engine = engineFor(ids, { storeRetryMs: 1000 });
    engine.scheduler.start();
    const job = futureJob({ targets: 'all' });
    engine.scheduler.accept(job);
    fillDatabase(engine.store.database);

    engine.clock.advance(10 * MINUTE_MS);
    expect(engine.store.jobs.get(job.id)?.launchedAt).toBeUndefined();

    freeDatabase(engine.store.database);
    engine.clock.advance(1000);
    await engine.runner.whenIdle();

    expect(engine.store.jobs.get(job.id)?.launchedAt).toBe(TEST_EPOCH + 10 * MINUTE_MS + 1000);
    expect(engine.store.runs.list(job.id)).toHaveLength(400);
  });
});
