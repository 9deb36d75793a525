import type { Clock } from '../clock.js';
import { AgentError } from '../errors.js';

/**
 * Settles `work` or rejects when `timeoutMs` passes on `clock` or `signal` aborts, whichever comes
 * first. `onTimeout` and `onAbort` build the rejection and may release resources; they run once.
 * The work itself is not stopped: the caller's callbacks do that.
 */
export function withDeadline<T>(
  work: Promise<T>,
  options: {
    clock: Clock;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    onTimeout: () => AgentError;
    onAbort?: () => AgentError;
  },
): Promise<T> {
  const { clock, timeoutMs, signal } = options;
  const onAbort = options.onAbort ?? (() => cancelledError(signal));

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void): void => {
      if (!settled) {
        settled = true;
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', abortListener);
        action();
      }
    };

    const abortListener = (): void => settle(() => reject(onAbort()));
    const timer = clock.setTimeout(() => settle(() => reject(options.onTimeout())), timeoutMs);
    work.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );

    if (signal?.aborted === true) {
      abortListener();
      return;
    }

    signal?.addEventListener('abort', abortListener, { once: true });
  });
}

/** The CANCELLED error for an aborted signal, keeping its reason as the cause. */
export function cancelledError(
  signal: AbortSignal | undefined,
  what = 'the operation',
): AgentError {
  return new AgentError('CANCELLED', `${what} was cancelled`, { cause: signal?.reason });
}
