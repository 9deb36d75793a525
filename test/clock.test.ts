import { describe, expect, it } from 'vitest';

import { sleep } from '../src/clock.js';
import { ManualClock } from './support/manual-clock.js';

describe('ManualClock', () => {
  it('fires timers in due order', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];

    clock.setTimeout(() => fired.push('late'), 200);
    clock.setTimeout(() => fired.push('early'), 100);
    clock.advance(150);

    expect(fired).toEqual(['early']);
    expect(clock.now()).toBe(150);

    clock.advance(50);
    expect(fired).toEqual(['early', 'late']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers set by callbacks', () => {
    const clock = new ManualClock(0);
    const firedAt: number[] = [];

    clock.setTimeout(() => {
      firedAt.push(clock.now());
      clock.setTimeout(() => firedAt.push(clock.now()), 10);
    }, 10);
    clock.advance(100);

    expect(firedAt).toEqual([10, 20]);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the delay', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const pending = sleep(clock, 1000).then(() => {
      done = true;
    });

    clock.advance(999);
    await Promise.resolve();
    expect(done).toBe(false);

    clock.advance(1);
    await pending;
    expect(done).toBe(true);
  });

  it('rejects with the abort reason', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const pending = sleep(clock, 1000, controller.signal);

    controller.abort(new Error('stopped'));

    await expect(pending).rejects.toThrow('stopped');
    expect(clock.pendingTimers).toBe(0);
  });
});
