import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createSilentLogger } from '../../src/logging.js';
import { startRetentionTimer } from '../../src/store/retention-timer.js';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { ManualClock } from '../support/manual-clock.js';
import { openTempStore } from '../support/temp-store.js';

let store: ReturnType<typeof openTempStore>;

beforeEach(() => {
  store = openTempStore();
});

afterEach(() => {
  store.dispose();
});

const DAY_MS = 24 * 60 * 60 * 1000;

const OUTPUT_BYTES = 200 * 1024;

/** Stores a job with one run that succeeded at `finishedAt` with a large output. */
function finishedJob(finishedAt: number, outputBytes = OUTPUT_BYTES): string {
  const job = makeJob({ targets: ['r1'], expiresAt: finishedAt + DAY_MS });
  store.acceptJob(job);
  store.jobs.launch(job.id, ['r1'], finishedAt);
  store.runs.start(job.id, 'r1', finishedAt);
  store.runs.finish(job.id, 'r1', {
    state: 'succeeded',
    output: 'y'.repeat(outputBytes),
    outputBytes,
    finishedAt,
  });
  return job.id;
}

function acknowledgeAll(): void {
  store.outbox.acknowledge(store.outbox.lastSeq());
}

describe('Retention', () => {
  it('deletes acknowledged jobs past max age', () => {
    const old = finishedJob(TEST_EPOCH);
    const recent = finishedJob(TEST_EPOCH + 9 * DAY_MS);
    acknowledgeAll();

    const report = store.retention.prune(
      { maxAgeMs: 7 * DAY_MS, maxSizeBytes: 1024 ** 3 },
      TEST_EPOCH + 10 * DAY_MS,
    );

    expect(report.deletedJobs).toBe(1);
    expect(store.jobs.get(old)).toBeUndefined();
    expect(store.runs.list(old)).toEqual([]);
    expect(store.jobs.get(recent)?.verdict).toBe('completed');
  });

  it('keeps jobs with unacknowledged events', () => {
    const job = finishedJob(TEST_EPOCH);

    store.retention.prune({ maxAgeMs: 1, maxSizeBytes: 1 }, TEST_EPOCH + 10 * DAY_MS);

    expect(store.jobs.get(job)?.verdict).toBe('completed');
  });

  it('keeps jobs with unfinished runs', () => {
    const job = makeJob({ targets: ['r1', 'r2'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, ['r1', 'r2'], TEST_EPOCH);
    store.runs.start(job.id, 'r1', TEST_EPOCH);
    acknowledgeAll();

    store.retention.prune({ maxAgeMs: 1, maxSizeBytes: 1 }, TEST_EPOCH + 10 * DAY_MS);

    expect(store.runs.list(job.id).map((run) => run.state)).toEqual(['running', 'pending']);
  });

  it('enforces size bound oldest first', () => {
    const jobIds = Array.from({ length: 40 }, (_, index) => finishedJob(TEST_EPOCH + index * 1000));
    acknowledgeAll();
    const maxSizeBytes = 2 * 1024 * 1024;
    expect(store.retention.usedBytes()).toBeGreaterThan(3 * maxSizeBytes);

    const report = store.retention.prune(
      { maxAgeMs: 365 * DAY_MS, maxSizeBytes },
      TEST_EPOCH + DAY_MS,
    );
    const kept = jobIds.filter((jobId) => store.jobs.get(jobId) !== undefined);

    expect(report.overLimit).toBe(false);
    expect(report.usedBytes).toBeLessThanOrEqual(maxSizeBytes);
    expect(store.retention.usedBytes()).toBeLessThanOrEqual(maxSizeBytes);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(jobIds.slice(jobIds.length - kept.length));
  });

  it('keeps unacknowledged data over the size bound', () => {
    const acknowledged = Array.from({ length: 10 }, (_, index) => finishedJob(TEST_EPOCH + index));
    acknowledgeAll();
    const unacknowledged = Array.from({ length: 10 }, (_, index) =>
      finishedJob(TEST_EPOCH + 100 + index),
    );

    const report = store.retention.prune(
      { maxAgeMs: 365 * DAY_MS, maxSizeBytes: 1024 * 1024 },
      TEST_EPOCH + DAY_MS,
    );

    expect(report.overLimit).toBe(true);
    expect(acknowledged.every((jobId) => store.jobs.get(jobId) === undefined)).toBe(true);
    expect(
      unacknowledged.every((jobId) => store.runs.get(jobId, 'r1')?.outputBytes === OUTPUT_BYTES),
    ).toBe(true);
    expect(store.outbox.read(0, 1000).length).toBe(store.outbox.depth());
  });

  it('shrinks the database file', () => {
    for (let index = 0; index < 20; index += 1) {
      finishedJob(TEST_EPOCH);
    }
    acknowledgeAll();
    const pagesBefore = store.database.pragma('page_count', { simple: true }) as number;

    store.retention.prune({ maxAgeMs: 1, maxSizeBytes: 1024 ** 3 }, TEST_EPOCH + DAY_MS);

    expect(store.database.pragma('page_count', { simple: true })).toBeLessThan(pagesBefore / 4);
  });

  it('recognises a resent job after deletion', () => {
    const job = makeJob({ targets: [], expiresAt: TEST_EPOCH + 30 * DAY_MS });
    store.acceptJob(job);
    store.jobs.launch(job.id, [], TEST_EPOCH);
    acknowledgeAll();
    store.retention.prune({ maxAgeMs: 1, maxSizeBytes: 1024 ** 3 }, TEST_EPOCH + DAY_MS);
    expect(store.jobs.get(job.id)).toBeUndefined();

    expect(store.acceptJob(job)).toBe('duplicate');
    expect(store.jobs.get(job.id)).toBeUndefined();
  });

  it('forgets tombstones after expiry', () => {
    const job = makeJob({ targets: [], expiresAt: TEST_EPOCH + DAY_MS });
    store.acceptJob(job);
    store.jobs.launch(job.id, [], TEST_EPOCH);
    acknowledgeAll();
    store.retention.prune({ maxAgeMs: 1, maxSizeBytes: 1024 ** 3 }, TEST_EPOCH + 1000);

    store.retention.prune({ maxAgeMs: 1, maxSizeBytes: 1024 ** 3 }, TEST_EPOCH + 2 * DAY_MS);

    expect(store.acceptJob(job)).toBe('accepted');
  });
});

describe('startRetentionTimer', () => {
  it('prunes now and every interval', () => {
    const clock = new ManualClock(TEST_EPOCH + 10 * DAY_MS);
    const policy = { maxAgeMs: DAY_MS, maxSizeBytes: 1024 ** 3 };
    const first = finishedJob(TEST_EPOCH, 10);
    acknowledgeAll();

    const stop = startRetentionTimer({
      store,
      policy,
      clock,
      logger: createSilentLogger(),
      intervalMs: DAY_MS,
    });
    expect(store.jobs.get(first)).toBeUndefined();

    const second = finishedJob(TEST_EPOCH + 10 * DAY_MS, 10);
    acknowledgeAll();
    clock.advance(2 * DAY_MS);
    expect(store.jobs.get(second)).toBeUndefined();

    stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
