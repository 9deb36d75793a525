import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { thrownCode } from '../support/errors.js';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { fillDatabase, freeDatabase, openTempStore } from '../support/temp-store.js';

let store: ReturnType<typeof openTempStore>;

beforeEach(() => {
  store = openTempStore();
});

afterEach(() => {
  store.dispose();
});

function fillDisk(): void {
  fillDatabase(store.database);
}

function freeDisk(): void {
  freeDatabase(store.database);
}

/** A script larger than a database page, so storing it needs new pages. */
const BIG_SCRIPT = `:put "${'z'.repeat(64 * 1024)}"`;

describe('Store on a full disk', () => {
  it('rejects new job and keeps nothing', () => {
    const job = makeJob({ script: BIG_SCRIPT });
    fillDisk();

    expect(thrownCode(() => store.acceptJob(job))).toBe('STORE_FULL');
    expect(store.jobs.get(job.id)).toBeUndefined();
    expect(store.runs.list(job.id)).toEqual([]);
    expect(store.outbox.depth()).toBe(0);
  });

  it('keeps earlier jobs readable', () => {
    const earlier = makeJob();
    store.acceptJob(earlier);
    fillDisk();

    thrownCode(() => store.acceptJob(makeJob({ script: BIG_SCRIPT })));

    expect(store.jobs.get(earlier.id)?.script).toBe(earlier.script);
    expect(store.outbox.read(0, 10).map((entry) => entry.event.type)).toEqual(['job.accepted']);
  });

  it('accepts the job once space returns', () => {
    const job = makeJob({ script: BIG_SCRIPT });
    fillDisk();
    thrownCode(() => store.acceptJob(job));

    freeDisk();

    expect(store.acceptJob(job)).toBe('accepted');
    expect(store.runs.list(job.id)).toHaveLength(2);
  });

  it('leaves a run running when its result cannot be written', () => {
    const job = makeJob({ targets: ['r1'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, ['r1'], TEST_EPOCH);
    store.runs.start(job.id, 'r1', TEST_EPOCH);
    fillDisk();
    const outcome = {
      state: 'succeeded',
      output: 'o'.repeat(256 * 1024),
      outputBytes: 256 * 1024,
      finishedAt: TEST_EPOCH + 1,
    } as const;

    expect(thrownCode(() => store.runs.finish(job.id, 'r1', outcome))).toBe('STORE_FULL');
    expect(store.runs.get(job.id, 'r1')?.state).toBe('running');

    freeDisk();

    expect(store.runs.finish(job.id, 'r1', outcome)?.state).toBe('succeeded');
    expect(store.jobs.get(job.id)?.verdict).toBe('completed');
  });

  it('acknowledges outbox events while full', () => {
    store.acceptJob(makeJob());
    store.acceptJob(makeJob());
    fillDisk();

    expect(store.outbox.acknowledge(2)).toBe(2);
    expect(store.outbox.depth()).toBe(0);
  });
});
