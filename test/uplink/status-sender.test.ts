import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createSilentLogger } from '../../src/logging.js';
import type { StatusFrame } from '../../src/protocol/messages.js';
import type { Store } from '../../src/store/store.js';
import { StatusSender } from '../../src/uplink/status-sender.js';
import type { UplinkOutbox } from '../../src/uplink/types.js';
import { makeJob } from '../support/jobs.js';
import { openTempStore } from '../support/temp-store.js';

let store: Store & { dispose(): void };

beforeEach(() => {
  store = openTempStore();
});

afterEach(() => {
  store.dispose();
});

/** Writes one event per device: the job's acceptance, its launch and each run's start. */
function writeEvents(devices: number): void {
  const deviceIds = Array.from({ length: devices }, (_, index) => `router-${index + 1}`);
  const job = makeJob({ targets: deviceIds });
  store.acceptJob(job);
  store.jobs.launch(job.id, deviceIds, job.launchAt);
  for (const deviceId of deviceIds) {
    store.runs.start(job.id, deviceId, job.launchAt);
  }
}

/** Makes a sender over the store's outbox that records the frames it sends and the acknowledgements it stores. */
function makeSender(window: number) {
  const sent: StatusFrame[] = [];
  const stored: number[] = [];
  const outbox: UplinkOutbox = {
    read: (afterSeq, limit) => store.outbox.read(afterSeq, limit),
    acknowledge: (seq) => {
      stored.push(seq);
      return store.outbox.acknowledge(seq);
    },
    acknowledgedSeq: () => store.outbox.acknowledgedSeq(),
  };
  const sender = new StatusSender({
    outbox,
    send: (frames) => sent.push(...frames),
    window,
    logger: createSilentLogger(),
    acknowledgedSeq: 0,
  });
  return { sender, sent, stored };
}

describe('StatusSender', () => {
  it('stores a burst of acknowledgements once', async () => {
    writeEvents(4);
    const { sender, sent, stored } = makeSender(10);
    await sender.resume(0);
    const seqs = sent.map((frame) => frame.seq);

    for (const seq of seqs.slice(0, 4)) {
      await sender.onAck(seq);
    }

    await sender.close();
    expect(stored).toEqual([seqs[3]]);
    expect(store.outbox.acknowledgedSeq()).toBe(seqs[3]);
  });

  it('fills the freed window after acknowledgements', async () => {
    writeEvents(6);
    const { sender, sent } = makeSender(3);
    await sender.resume(0);
    const first = sent.map((frame) => frame.seq);

    await sender.onAck(first[1] ?? 0);
    await new Promise((resolve) => setImmediate(resolve));
    await sender.close();

    expect(first).toHaveLength(3);
    expect(sent).toHaveLength(5);
    expect(sender.unacknowledged).toBe(3);
  });
});
