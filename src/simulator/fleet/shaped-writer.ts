import { type Clock, sleep } from '../../clock.js';
import type { DeviceFaults } from './faults.js';

/**
 * Writes replies in order, applying the device's latency and `fragment` faults. Without either
 * fault a write goes straight to the sink, so a fleet without faults pays nothing for them.
 */
export class ShapedWriter {
  private readonly sink: (chunk: Buffer) => void;

  private readonly isClosed: () => boolean;

  private readonly faults: DeviceFaults;

  private readonly clock: Clock;

  /** Settles when every write queued so far has reached the sink; writes chain onto it. */
  private tail: Promise<void> = Promise.resolve();

  /** Writes queued behind a delay and not yet written; direct writes wait for them. */
  private pending = 0;

  /**
   * Clock time at which the last queued write is due. The next write is due `latencyMs` after
   * the later of this and its own queuing time, so a timer that fires late does not delay the
   * writes behind it.
   */
  private lastDueAt = 0;

  constructor(options: {
    sink: (chunk: Buffer) => void;
    isClosed: () => boolean;
    faults: DeviceFaults;
    clock: Clock;
  }) {
    this.sink = options.sink;
    this.isClosed = options.isClosed;
    this.faults = options.faults;
    this.clock = options.clock;
  }

  /** Queues `bytes` behind earlier writes. Settles once they reached the sink or were dropped. */
  write(bytes: Buffer): Promise<void> {
    if (this.pending === 0 && !this.faults.shapesWrites) {
      if (!this.isClosed()) {
        this.sink(bytes);
      }

      return Promise.resolve();
    }

    this.lastDueAt = Math.max(this.clock.now(), this.lastDueAt) + this.faults.settings.latencyMs;
    const dueAt = this.lastDueAt;
    this.pending++;
    this.tail = this.tail.then(() => this.writeShaped(bytes, dueAt)).finally(() => this.pending--);
    return this.tail;
  }

  private async writeShaped(bytes: Buffer, dueAt: number): Promise<void> {
    const { fragmentBytes, fragmentPauseMs } = this.faults.settings;
    const waitMs = dueAt - this.clock.now();
    if (waitMs > 0) {
      await sleep(this.clock, waitMs);
    }

    if (!this.faults.has('fragment')) {
      this.writeIfOpen(bytes);
      return;
    }

    const size = Math.max(1, fragmentBytes);
    for (let offset = 0; offset < bytes.length; offset += size) {
      if (offset > 0) {
        await sleep(this.clock, fragmentPauseMs);
      }

      this.writeIfOpen(bytes.subarray(offset, offset + size));
    }
  }

  private writeIfOpen(bytes: Buffer): void {
    if (!this.isClosed()) {
      this.sink(bytes);
    }
  }
}
