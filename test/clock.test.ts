import { setTimeout as delay } from 'node:timers/promises';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { MAX_TIMER_DELAY_MS, sleep, systemClock } from '../src/clock.js';
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

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a delay past the Node limit', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, MAX_TIMER_DELAY_MS + 1000);

    await delay(50);
    systemClock.clearTimeout(handle);

    expect(fired).toBe(false);
  });

  it('fires a long delay after its steps', () => {
    vi.useFakeTimers();
    let fired = false;
    systemClock.setTimeout(() => {
      fired = true;
    }, MAX_TIMER_DELAY_MS + 10);

    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toBe(false);

    vi.advanceTimersByTime(10);
    expect(fired).toBe(true);
  });

  it('clears a long delay between steps', () => {
    vi.useFakeTimers();
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, MAX_TIMER_DELAY_MS + 10);

    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    systemClock.clearTimeout(handle);
    vi.advanceTimersByTime(100);

    expect(fired).toBe(false);
  });
});
