/** A handle returned by `Clock.setTimeout`, passed back to `Clock.clearTimeout`. */
export type TimerHandle = { readonly id: number };

/**
 * The source of time and timers for everything that waits: the scheduler, run and command
 * timeouts, heartbeats and reconnect back-off. Production code uses `systemClock`; tests pass a
 * manual clock and advance it instead of sleeping.
 */
export type Clock = {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
};

/**
 * Largest delay a Node timer takes. Node fires a longer delay after 1 ms with a
 * TimeoutOverflowWarning, so `systemClock` waits longer delays in steps of this size.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

let nextTimerId = 1;

/** Node timers of pending `systemClock` timers by handle id; a long wait replaces its entry. */
const systemTimers = new Map<number, NodeJS.Timeout>();

/** The real clock: `Date.now()` and Node timers. Timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),

  setTimeout(callback, delayMs) {
    const id = nextTimerId++;
    const arm = (remainingMs: number): void => {
      const stepMs = Math.min(remainingMs, MAX_TIMER_DELAY_MS);
      const timer = setTimeout(() => {
        if (remainingMs > stepMs) {
          arm(remainingMs - stepMs);
          return;
        }

        systemTimers.delete(id);
        callback();
      }, stepMs);
      timer.unref();
      systemTimers.set(id, timer);
    };
    arm(delayMs);
    return { id };
  },

  clearTimeout(handle) {
    const timer = systemTimers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      systemTimers.delete(handle.id);
    }
  },
};

/**
 * Resolves after `delayMs` on `clock`, or rejects with the signal's reason when `signal` aborts
 * first.
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }

    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
