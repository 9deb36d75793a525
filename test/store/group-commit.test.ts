import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { Store } from '../../src/store/store.js';
import { rejectedError } from '../support/errors.js';
import { makeJob } from '../support/jobs.js';
import { fillDatabase, makeStoreDirectory } from '../support/temp-store.js';

let directory: ReturnType<typeof makeStoreDirectory>;
let store: Store;

beforeEach(() => {
  directory = makeStoreDirectory();
  store = Store.open(directory.file);
});

afterEach(() => {
  store.close();
  directory.remove();
});

/** A script larger than a database page, so storing it needs new pages. */
const BIG_SCRIPT = `:put "${'z'.repeat(64 * 1024)}"`;

describe('GroupCommit', () => {
  it('defers writes to one later commit', async () => {
    const jobs = [makeJob(), makeJob(), makeJob()];
    const writes = jobs.map((job) =>
      store.groupCommit.write('accepting', () => store.acceptJob(job)),
    );

    expect(store.groupCommit.pending).toBe(3);
    expect(store.jobs.get(jobs[0]?.id ?? '')).toBeUndefined();

    expect(await Promise.all(writes)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(store.groupCommit.pending).toBe(0);
    expect(store.outbox.depth()).toBe(3);
  });

  it('rolls back a failed write alone', async () => {
    const stored = makeJob();
    const other = makeJob();
    store.acceptJob(stored);

    const conflicting = store.groupCommit.write('accepting', () =>
      store.acceptJob({ ...stored, script: ':put "changed"' }),
    );
    const accepted = store.groupCommit.write('accepting', () => store.acceptJob(other));

    expect((await rejectedError(conflicting)).code).toBe('JOB_INVALID');
    expect(await accepted).toBe('accepted');
    expect(store.jobs.get(stored.id)?.script).toBe(stored.script);
    expect(store.jobs.get(other.id)?.id).toBe(other.id);
    // The batch ran twice, the first time rolled back as a whole: one event per job, not two.
    expect(store.outbox.depth()).toBe(2);
  });

  it('fails the whole batch on a full disk', async () => {
    const small = makeJob();
    const big = makeJob({ script: BIG_SCRIPT });
    fillDatabase(store.database);

    const first = store.groupCommit.write('accepting', () => store.acceptJob(small));
    const second = store.groupCommit.write('accepting', () => store.acceptJob(big));
    const third = store.groupCommit.write('accepting', () => store.acceptJob(makeJob()));

    expect((await rejectedError(first)).code).toBe('STORE_FULL');
    expect((await rejectedError(second)).code).toBe('STORE_FULL');
    expect((await rejectedError(third)).code).toBe('STORE_FULL');
    expect(store.jobs.get(small.id)).toBeUndefined();
    expect(store.outbox.depth()).toBe(0);
  });

  it('rejects every write when the commit fails', async () => {
    const writes = [makeJob(), makeJob()].map((job) =>
      store.groupCommit.write('accepting', () => store.acceptJob(job)),
    );
    store.database.close();

    const outcomes = await Promise.allSettled(writes);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
  });

  it('commits queued writes on close', async () => {
    const job = makeJob();
    const write = store.groupCommit.write('accepting', () => store.acceptJob(job));

    store.close();
    store = Store.open(directory.file);

    expect(await write).toBe('accepted');
    expect(store.jobs.get(job.id)?.id).toBe(job.id);
  });
});
