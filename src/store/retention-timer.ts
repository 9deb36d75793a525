import type { Clock, TimerHandle } from '../clock.js';
import type { RetentionConfig } from '../config/types.js';
import type { Logger } from '../logging.js';
import type { Store } from './store.js';

export type RetentionTimerOptions = {
  store: Store;
  policy: RetentionConfig;
  clock: Clock;
  logger: Logger;
  /** Time between passes. Default one hour. */
  intervalMs?: number;
};

/**
 * Runs a retention pass now and then every `intervalMs` until the returned function is called.
 * A failed pass is logged and tried again at the next interval.
 */
export function startRetentionTimer(options: RetentionTimerOptions): () => void {
  const { clock } = options;
  const logger = options.logger.child({ component: 'retention' });
  const intervalMs = options.intervalMs ?? 60 * 60 * 1000;
  let timer: TimerHandle | undefined;

  const pass = (): void => {
    try {
      const report = options.store.retention.prune(options.policy, clock.now());
      if (report.overLimit) {
        logger.warn(
          { ...report, maxSizeBytes: options.policy.maxSizeBytes },
          'store above its size limit; the rest is unfinished or not yet acknowledged',
        );
      } else if (report.deletedJobs > 0) {
        logger.info(report, 'old jobs deleted');
      }
    } catch (error) {
      logger.error({ err: error }, 'retention pass failed');
    }

    timer = clock.setTimeout(pass, intervalMs);
  };

  pass();
  return () => {
    if (timer !== undefined) {
      clock.clearTimeout(timer);
    }
  };
}
