/** Bounds of the reconnect delay, in milliseconds. */
export type BackoffOptions = {
  /** Delay before the first retry. Default 1000 ms. */
  minDelayMs?: number;
  /** Maximum delay. Default 60 000 ms. */
  maxDelayMs?: number;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
};

/**
 * Computes the delay before reconnect attempt `attempt` (0 for the first retry): a ceiling that
 * doubles from `minDelayMs` up to `maxDelayMs`, with the delay drawn uniformly from the upper
 * half of the ceiling and never below `minDelayMs`. The jitter keeps a fleet of agents from
 * reconnecting in step after a control-plane restart.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const minDelayMs = options.minDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const random = options.random ?? Math.random;

  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
  const delay = ceiling * (0.5 + 0.5 * random());
  return Math.round(Math.max(minDelayMs, Math.min(maxDelayMs, delay)));
}
