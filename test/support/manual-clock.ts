import type { Clock, TimerHandle } from '../../src/clock.js';

type PendingTimer = { id: number; dueAt: number; callback: () => void };

/**
 * A clock that moves only when a test advances it. Timers fire in due order during `advance`,
 * and a timer set by a firing callback fires in the same call when it falls due.
 */
export class ManualClock implements Clock {
  /** Current time in milliseconds since the epoch. */
  private currentMs: number;

  /** Timers not yet fired or cleared, unordered. */
  private readonly timers = new Map<number, PendingTimer>();

  private nextId = 1;

  /** Resolvers of `waitForTimers` calls, checked whenever a timer is set. */
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(startMs = Date.parse('2026-01-01T00:00:00Z')) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, dueAt: this.currentMs + Math.max(0, delayMs), callback });
    this.notifyWaiters();
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Number of timers set and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.currentMs + ms;

    for (;;) {
      const next = this.earliestTimer();
      if (next === undefined || next.dueAt > target) {
        break;
      }

      this.timers.delete(next.id);
      this.currentMs = Math.max(this.currentMs, next.dueAt);
      next.callback();
    }

    this.currentMs = target;
  }

  /** Moves time to an absolute instant, firing due timers. Never moves backwards. */
  setTime(ms: number): void {
    this.advance(Math.max(0, ms - this.currentMs));
  }

  /** Resolves once at least `count` timers are pending, so a test can advance past them. */
  waitForTimers(count = 1): Promise<void> {
    if (this.timers.size >= count) {
      return Promise.resolve();
    }

    return new Promise((resolve) => {
      this.waiters.push({ count, resolve });
    });
  }

  private earliestTimer(): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.timers.values()) {
      if (earliest === undefined || timer.dueAt < earliest.dueAt) {
        earliest = timer;
      }
    }

    return earliest;
  }

  private notifyWaiters(): void {
    const ready = this.waiters.filter((waiter) => this.timers.size >= waiter.count);
    this.waiters = this.waiters.filter((waiter) => this.timers.size < waiter.count);
    for (const waiter of ready) {
      waiter.resolve();
    }
  }
}
