import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { DeviceFaults } from '../../../src/simulator/fleet/faults.js';
import { ShapedWriter } from '../../../src/simulator/fleet/shaped-writer.js';

/** A clock whose timers fire only when the test fires them, at whatever time it chooses. */
class LateTimerClock implements Clock {
  nowMs = 1_000;

  readonly timers: Array<{ dueAt: number; callback: () => void }> = [];

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number) {
    this.timers.push({ dueAt: this.nowMs + delayMs, callback });
    return { id: this.timers.length };
  }

  clearTimeout(): void {}

  /** Fires the oldest timer at `atMs`, as a busy event loop fires it late. */
  async fireAt(atMs: number): Promise<void> {
    const timer = this.timers.shift();
    if (timer === undefined) {
      throw new Error('no timer is pending');
    }

    this.nowMs = atMs;
    timer.callback();
    await settle();
  }
}

/** Lets the writer's promise chain run until it waits on its next timer. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function writerWithLatency(latencyMs: number) {
  const clock = new LateTimerClock();
  const faults = new DeviceFaults([]);
  faults.settings.latencyMs = latencyMs;
  const written: Array<[string, number]> = [];
  const writer = new ShapedWriter({
    sink: (chunk) => written.push([chunk.toString(), clock.now()]),
    isClosed: () => false,
    faults,
    clock,
  });
  return { clock, writer, written };
}

describe('ShapedWriter latency', () => {
  it('delays the first write by the latency', async () => {
    const { clock, writer } = writerWithLatency(20);

    void writer.write(Buffer.from('a'));
    await settle();

    expect(clock.timers.map((timer) => timer.dueAt)).toEqual([1_020]);
  });

  it('keeps later writes on schedule after a late timer', async () => {
    const { clock, writer, written } = writerWithLatency(20);
    void writer.write(Buffer.from('a'));
    void writer.write(Buffer.from('b'));
    await settle();

    await clock.fireAt(1_027);

    expect(written).toEqual([['a', 1_027]]);
    expect(clock.timers.map((timer) => timer.dueAt)).toEqual([1_040]);
  });

  it('waits the latency after an idle gap', async () => {
    const { clock, writer, written } = writerWithLatency(20);
    void writer.write(Buffer.from('a'));
    await settle();
    await clock.fireAt(1_020);
    clock.nowMs = 1_500;

    void writer.write(Buffer.from('b'));
    await settle();

    expect(written).toEqual([['a', 1_020]]);
    expect(clock.timers.map((timer) => timer.dueAt)).toEqual([1_520]);
  });
});
