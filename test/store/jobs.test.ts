import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { OutboxEvent } from '../../src/store/types.js';
import { thrownCode } from '../support/errors.js';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { openTempStore } from '../support/temp-store.js';

let store: ReturnType<typeof openTempStore>;

beforeEach(() => {
  store = openTempStore();
});

afterEach(() => {
  store.dispose();
});

function events(): OutboxEvent[] {
  return store.outbox.read(0, 1000).map((entry) => entry.event);
}

function eventTypes(): string[] {
  return events().map((event) => event.type);
}

const INVENTORY = ['r1', 'r2', 'r3'];

describe('Store job intake', () => {
  it('stores job with pending runs', () => {
    const job = makeJob({ targets: ['r1', 'r2'] });

    expect(store.acceptJob(job)).toBe('accepted');
    expect(store.jobs.get(job.id)?.verdict).toBe('pending');
    expect(store.runs.list(job.id).map((run) => [run.deviceId, run.state, run.revision])).toEqual([
      ['r1', 'pending', 1],
      ['r2', 'pending', 1],
    ]);
    expect(eventTypes()).toEqual(['job.accepted']);
  });

  it('returns duplicate for identical resend', () => {
    const job = makeJob();
    store.acceptJob(job);

    expect(store.acceptJob({ ...job, receivedAt: job.receivedAt + 5000 })).toBe('duplicate');
    expect(store.outbox.depth()).toBe(1);
  });

  it('treats key order as identical content', () => {
    const job = makeJob();
    store.acceptJob(job);
    const reordered = Object.fromEntries(Object.entries(job).reverse()) as typeof job;

    expect(store.acceptJob(reordered)).toBe('duplicate');
  });

  it('rejects same id with different content', () => {
    const job = makeJob();
    store.acceptJob(job);

    expect(thrownCode(() => store.acceptJob({ ...job, script: '/system reboot' }))).toBe(
      'JOB_INVALID',
    );
    expect(store.jobs.get(job.id)?.script).toBe(job.script);
  });

  it('creates no runs for all targets', () => {
    const job = makeJob({ targets: 'all' });
    store.acceptJob(job);

    expect(store.runs.list(job.id)).toEqual([]);
  });
});

describe('Store job launch', () => {
  it('resolves all against inventory at launch', () => {
    const job = makeJob({ targets: 'all' });
    store.acceptJob(job);

    const pending = store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);

    expect(pending).toEqual(INVENTORY);
    expect(store.jobs.get(job.id)?.launchedAt).toBe(TEST_EPOCH);
    expect(events().at(-1)).toEqual({
      type: 'job.launched',
      jobId: job.id,
      launchedAt: TEST_EPOCH,
      deviceIds: INVENTORY,
    });
  });

  it('fails runs of unknown devices', () => {
    const job = makeJob({ targets: ['r1', 'gone'] });
    store.acceptJob(job);

    const pending = store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);
    const gone = store.runs.get(job.id, 'gone');

    expect(pending).toEqual(['r1']);
    expect(gone?.state).toBe('failed');
    expect(gone?.reasonCode).toBe('DEVICE_NOT_FOUND');
    expect(gone?.revision).toBe(2);
  });

  it('launches only once', () => {
    const job = makeJob({ targets: 'all' });
    store.acceptJob(job);
    store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);

    store.jobs.launch(job.id, ['r9'], TEST_EPOCH + 1);

    expect(store.runs.list(job.id).map((run) => run.deviceId)).toEqual(INVENTORY);
    expect(eventTypes().filter((type) => type === 'job.launched')).toHaveLength(1);
  });

  it('completes a launched job without runs', () => {
    const job = makeJob({ targets: 'all' });
    store.acceptJob(job);

    store.jobs.launch(job.id, [], TEST_EPOCH);

    expect(store.jobs.get(job.id)?.verdict).toBe('completed');
    expect(store.jobs.listUnfinished()).toEqual([]);
  });

  it('reports unknown job as not found', () => {
    expect(thrownCode(() => store.jobs.launch('no-such-job', INVENTORY, TEST_EPOCH))).toBe(
      'JOB_NOT_FOUND',
    );
  });
});

describe('Store run transitions', () => {
  function launched(targets: string[] = ['r1', 'r2']): string {
    const job = makeJob({ targets });
    store.acceptJob(job);
    store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);
    return job.id;
  }

  it('moves pending to running', () => {
    const jobId = launched();

    expect(store.runs.start(jobId, 'r1', TEST_EPOCH + 10)).toBe(true);
    expect(store.runs.get(jobId, 'r1')?.state).toBe('running');
    expect(store.runs.get(jobId, 'r1')?.startedAt).toBe(TEST_EPOCH + 10);
    expect(store.runs.get(jobId, 'r1')?.revision).toBe(2);
  });

  it('never starts a run twice', () => {
    const jobId = launched();
    store.runs.start(jobId, 'r1', TEST_EPOCH);

    expect(store.runs.start(jobId, 'r1', TEST_EPOCH)).toBe(false);
  });

  for (const state of ['succeeded', 'failed', 'timed_out', 'cancelled'] as const) {
    it(`moves running to ${state}`, () => {
      const jobId = launched();
      store.runs.start(jobId, 'r1', TEST_EPOCH);

      const run = store.runs.finish(jobId, 'r1', {
        state,
        ...(state === 'succeeded' ? {} : { reasonCode: 'SCRIPT_FAILED', reasonMessage: 'bad' }),
        output: 'done\r\n',
        outputBytes: 6,
        finishedAt: TEST_EPOCH + 50,
      });

      expect(run?.state).toBe(state);
      expect(run?.output).toBe('done\r\n');
      expect(run?.finishedAt).toBe(TEST_EPOCH + 50);
      expect(run?.revision).toBe(3);
    });
  }

  it('never finishes a pending run', () => {
    const jobId = launched();

    expect(
      store.runs.finish(jobId, 'r1', { state: 'succeeded', finishedAt: TEST_EPOCH }),
    ).toBeUndefined();
    expect(store.runs.get(jobId, 'r1')?.state).toBe('pending');
  });

  it('settles pending runs as skipped', () => {
    const jobId = launched();
    store.runs.start(jobId, 'r1', TEST_EPOCH);

    const settled = store.runs.settlePending(
      jobId,
      { state: 'skipped', reasonCode: 'SKIPPED', reasonMessage: 'too many failures' },
      TEST_EPOCH,
    );

    expect(settled).toEqual(['r2']);
    expect(store.runs.get(jobId, 'r1')?.state).toBe('running');
    expect(store.runs.get(jobId, 'r2')?.state).toBe('skipped');
    expect(store.runs.get(jobId, 'r2')?.reasonCode).toBe('SKIPPED');
  });

  it('settles expired runs as failed', () => {
    const jobId = launched();

    store.runs.settlePending(
      jobId,
      { state: 'failed', reasonCode: 'EXPIRED', reasonMessage: 'expired' },
      TEST_EPOCH,
    );

    expect(store.runs.get(jobId, 'r1')?.reasonCode).toBe('EXPIRED');
    expect(store.jobs.get(jobId)?.verdict).toBe('failed');
  });

  it('interrupts running runs after restart', () => {
    const jobId = launched();
    store.runs.start(jobId, 'r1', TEST_EPOCH);

    const interrupted = store.runs.interruptRunning(TEST_EPOCH + 100);

    expect(interrupted.map((run) => run.deviceId)).toEqual(['r1']);
    expect(store.runs.get(jobId, 'r1')?.state).toBe('interrupted');
    expect(store.runs.get(jobId, 'r1')?.reasonCode).toBe('INTERRUPTED');
    expect(store.runs.get(jobId, 'r2')?.state).toBe('pending');
  });

  it('counts failed and timed out runs', () => {
    const jobId = launched(['r1', 'r2', 'r3']);
    for (const [deviceId, state] of [
      ['r1', 'failed'],
      ['r2', 'timed_out'],
      ['r3', 'succeeded'],
    ] as const) {
      store.runs.start(jobId, deviceId, TEST_EPOCH);
      store.runs.finish(jobId, deviceId, { state, finishedAt: TEST_EPOCH });
    }

    expect(store.runs.failedCount(jobId)).toBe(2);
  });
});

describe('Store job verdict', () => {
  it('stays pending before launch', () => {
    const job = makeJob({ targets: ['r1'] });
    store.acceptJob(job);

    expect(store.runs.refreshVerdict(job.id, TEST_EPOCH)).toBe('pending');
  });

  it('completes when every run succeeded', () => {
    const job = makeJob({ targets: ['r1', 'r2'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);

    for (const deviceId of ['r1', 'r2']) {
      expect(store.jobs.get(job.id)?.verdict).toBe('pending');
      store.runs.start(job.id, deviceId, TEST_EPOCH);
      store.runs.finish(job.id, deviceId, { state: 'succeeded', finishedAt: TEST_EPOCH + 5 });
    }

    expect(store.jobs.get(job.id)?.verdict).toBe('completed');
    expect(store.jobs.get(job.id)?.finishedAt).toBe(TEST_EPOCH + 5);
    expect(events().at(-1)).toEqual({
      type: 'job.verdict',
      jobId: job.id,
      verdict: 'completed',
      decidedAt: TEST_EPOCH + 5,
    });
  });

  it('fails when one run failed', () => {
    const job = makeJob({ targets: ['r1', 'r2'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);
    store.runs.start(job.id, 'r1', TEST_EPOCH);
    store.runs.finish(job.id, 'r1', {
      state: 'failed',
      reasonCode: 'SCRIPT_FAILED',
      finishedAt: TEST_EPOCH,
    });
    store.runs.start(job.id, 'r2', TEST_EPOCH);
    store.runs.finish(job.id, 'r2', { state: 'succeeded', finishedAt: TEST_EPOCH });

    expect(store.jobs.get(job.id)?.verdict).toBe('failed');
  });
});

describe('Store job cancellation', () => {
  it('cancels queued runs and reports running ones', () => {
    const job = makeJob({ targets: ['r1', 'r2', 'r3'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);
    store.runs.start(job.id, 'r1', TEST_EPOCH);

    const outcome = store.jobs.cancel(job.id, INVENTORY, TEST_EPOCH + 1);

    expect(outcome).toEqual({ cancelledDeviceIds: ['r2', 'r3'], runningDeviceIds: ['r1'] });
    expect(store.runs.get(job.id, 'r2')?.state).toBe('cancelled');
    expect(store.runs.get(job.id, 'r2')?.reasonCode).toBe('CANCELLED');
    expect(store.jobs.get(job.id)?.cancelRequestedAt).toBe(TEST_EPOCH + 1);
  });

  it('cancels an all job before launch', () => {
    const job = makeJob({ targets: 'all' });
    store.acceptJob(job);

    const outcome = store.jobs.cancel(job.id, INVENTORY, TEST_EPOCH);

    expect(outcome.cancelledDeviceIds).toEqual(INVENTORY);
    expect(store.jobs.get(job.id)?.verdict).toBe('failed');
    expect(store.jobs.launch(job.id, INVENTORY, TEST_EPOCH)).toEqual([]);
  });

  it('leaves a finished job alone', () => {
    const job = makeJob({ targets: [] });
    store.acceptJob(job);
    store.jobs.launch(job.id, INVENTORY, TEST_EPOCH);

    expect(store.jobs.cancel(job.id, INVENTORY, TEST_EPOCH)).toEqual({
      cancelledDeviceIds: [],
      runningDeviceIds: [],
    });
    expect(store.jobs.get(job.id)?.verdict).toBe('completed');
  });
});
