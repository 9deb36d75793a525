import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { Store } from '../../src/store/store.js';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { makeStoreDirectory } from '../support/temp-store.js';

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

function acceptJobs(count: number): void {
  for (let index = 0; index < count; index += 1) {
    store.acceptJob(makeJob());
  }
}

describe('Outbox', () => {
  it('numbers events in increasing order', () => {
    acceptJobs(5);

    const seqs = store.outbox.read(0, 100).map((entry) => entry.seq);

    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(store.outbox.lastSeq()).toBe(5);
  });

  it('reads after a sequence with a limit', () => {
    acceptJobs(5);

    expect(store.outbox.read(2, 2).map((entry) => entry.seq)).toEqual([3, 4]);
    expect(store.outbox.read(5, 10)).toEqual([]);
  });

  it('acknowledges cumulatively', () => {
    acceptJobs(5);

    expect(store.outbox.acknowledge(3)).toBe(3);
    expect(store.outbox.depth()).toBe(2);
    expect(store.outbox.acknowledgedSeq()).toBe(3);
    expect(store.outbox.read(0, 10).map((entry) => entry.seq)).toEqual([4, 5]);
  });

  it('ignores an older acknowledgement', () => {
    acceptJobs(5);
    store.outbox.acknowledge(4);

    expect(store.outbox.acknowledge(2)).toBe(0);
    expect(store.outbox.acknowledgedSeq()).toBe(4);
  });

  it('clamps acknowledgement past the last event', () => {
    acceptJobs(2);

    store.outbox.acknowledge(10);
    acceptJobs(1);

    expect(store.outbox.acknowledgedSeq()).toBe(2);
    expect(store.outbox.read(0, 10).map((entry) => entry.seq)).toEqual([3]);
  });

  it('never reuses sequence numbers after reopen', () => {
    acceptJobs(3);
    store.outbox.acknowledge(3);
    store.close();
    store = Store.open(directory.file);

    acceptJobs(1);

    expect(store.outbox.read(0, 10).map((entry) => entry.seq)).toEqual([4]);
  });

  it('keeps an acknowledgement after reopen', () => {
    acceptJobs(3);
    store.outbox.acknowledge(2);
    store.close();
    store = Store.open(directory.file);

    expect(store.outbox.acknowledgedSeq()).toBe(2);
    expect(store.outbox.depth()).toBe(1);
  });

  it('attaches output to final run events', () => {
    const job = makeJob({ targets: ['r1'] });
    store.acceptJob(job);
    store.jobs.launch(job.id, ['r1'], TEST_EPOCH);
    store.runs.start(job.id, 'r1', TEST_EPOCH);
    store.runs.finish(job.id, 'r1', {
      state: 'succeeded',
      output: 'ok\r\n',
      outputBytes: 4,
      finishedAt: TEST_EPOCH + 1,
    });

    const runEvents = store.outbox
      .read(0, 100)
      .flatMap((entry) => (entry.event.type === 'run.updated' ? [entry.event.run] : []));

    expect(runEvents.map((run) => run.state)).toEqual(['running', 'succeeded']);
    expect(runEvents[0]?.output).toBeUndefined();
    expect(runEvents[1]?.output).toBe('ok\r\n');
    expect(runEvents.map((run) => run.revision)).toEqual([2, 3]);
  });
});

describe('Outbox id', () => {
  it('stays the same across reopen', () => {
    const id = store.outbox.id;
    store.close();
    store = Store.open(directory.file);

    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(store.outbox.id).toBe(id);
  });
});

describe('Outbox subscribe', () => {
  it('notifies once per burst', async () => {
    let calls = 0;
    const unsubscribe = store.outbox.subscribe(() => {
      calls += 1;
    });

    acceptJobs(3);
    await new Promise((resolve) => setImmediate(resolve));
    unsubscribe();
    acceptJobs(1);
    await new Promise((resolve) => setImmediate(resolve));

    expect(calls).toBe(1);
  });
});
