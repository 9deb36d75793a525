import { type Clock, MAX_TIMER_DELAY_MS, type TimerHandle } from '../clock.js';
import type { Logger } from '../logging.js';
import type { CancelOutcome } from '../store/jobs.js';
import type { Store } from '../store/store.js';
import type { AcceptOutcome, StoredJob } from '../store/types.js';
import type { Runner } from './runner.js';
import type { Job } from './types.js';

export type SchedulerOptions = {
  store: Store;
  runner: Runner;
  clock: Clock;
  logger: Logger;
  /** Wait before retrying a launch or expiry whose store write failed. Default 5000 ms. */
  storeRetryMs?: number;
};

type JobTimers = { launch?: TimerHandle; expiry?: TimerHandle };

/**
 * Starts each job at its launch time and fails its unstarted runs at its expiry, by the
 * injected clock and independently of the control-plane link. On start it marks runs left
 * `running` by a crash as `interrupted` and schedules every unfinished job again.
 */
export class Scheduler {
  private readonly options: SchedulerOptions;

  private readonly logger: Logger;

  /** Timers of each job not yet finished; a job's entry goes once it has expired. */
  private readonly timers = new Map<string, JobTimers>();

  private stopped = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'scheduler' });
  }

  /**
   * Recovers from the last stop and schedules stored jobs: runs found `running` become
   * `interrupted` (never started again), pending runs continue. Returns the counts.
   */
  start(): { interruptedRuns: number; unfinishedJobs: number } {
    const { store, clock } = this.options;
    const interrupted = store.runs.interruptRunning(clock.now());

    for (const run of interrupted) {
      this.logger.warn(
        { jobId: run.jobId, deviceId: run.deviceId },
        'run interrupted by the last stop',
      );
    }

    const jobs = store.jobs.listUnfinished();
    for (const job of jobs) {
      this.plan(job);
    }

    this.logger.info(
      { interruptedRuns: interrupted.length, unfinishedJobs: jobs.length },
      'scheduler started',
    );
    return { interruptedRuns: interrupted.length, unfinishedJobs: jobs.length };
  }

  /**
   * Job intake: stores a verified job (see `Jobs.accept`) and schedules it. Resolve the control
   * plane's offer only after this returns, because then the job is durable.
   */
  accept(job: Job): AcceptOutcome {
    const outcome = this.options.store.acceptJob(job);
    const stored = this.options.store.jobs.get(job.id);

    if (outcome === 'accepted' && stored !== undefined) {
      this.logger.info(
        { jobId: job.id, launchAt: job.launchAt, expiresAt: job.expiresAt },
        'job accepted',
      );
      this.plan(stored);
    }

    return outcome;
  }

  /** Cancels a job; see `Runner.cancel`. Throws JOB_NOT_FOUND for an unknown id. */
  cancel(jobId: string): CancelOutcome {
    const outcome = this.options.runner.cancel(jobId);
    this.clearTimers(jobId);
    this.logger.info({ jobId, ...countsOf(outcome) }, 'job cancelled');
    return outcome;
  }

  /** Clears every timer. The runner is stopped separately. */
  stop(): void {
    this.stopped = true;

    for (const jobId of [...this.timers.keys()]) {
      this.clearTimers(jobId);
    }
  }

  private plan(job: StoredJob): void {
    this.clearTimers(job.id);
    if (job.verdict !== 'pending' || this.stopped) {
      return;
    }

    const now = this.options.clock.now();
    if (now >= job.expiresAt) {
      this.launch(job);
      this.expire(job);
      return;
    }

    if (job.launchedAt === undefined && now < job.launchAt) {
      this.armAt(job.id, 'launch', job.launchAt, () => this.launch(job));
    } else {
      this.launch(job);
    }

    this.armAt(job.id, 'expiry', job.expiresAt, () => this.expire(job));
  }

  private launch(job: StoredJob): void {
    const { store, runner, clock } = this.options;

    try {
      const pending = store.jobs.launch(job.id, runner.inventory, clock.now());
      this.logger.info({ jobId: job.id, pendingRuns: pending.length }, 'job launched');
      runner.enqueue(job, pending);
    } catch (error) {
      this.logger.error({ err: error, jobId: job.id }, 'job launch failed; retrying');
      this.retry(job.id, 'launch', () => this.launch(job));
    }
  }

  private expire(job: StoredJob): void {
    try {
      const expired = this.options.runner.expire(job.id);
      if (expired.length > 0) {
        this.logger.warn(
          { jobId: job.id, expiredRuns: expired.length },
          'job expired with runs not started',
        );
      }

      this.clearTimers(job.id);
    } catch (error) {
      this.logger.error({ err: error, jobId: job.id }, 'job expiry failed; retrying');
      this.retry(job.id, 'expiry', () => this.expire(job));
    }
  }

  private retry(jobId: string, kind: keyof JobTimers, action: () => void): void {
    const delayMs = this.options.storeRetryMs ?? 5000;
    this.armAt(jobId, kind, this.options.clock.now() + delayMs, action);
  }

  /**
   * Calls `action` once the clock reads `at` or later. Waits longer than Node timers allow are
   * taken in steps, and a timer that fires early (the wall clock was set back) waits again.
   */
  private armAt(jobId: string, kind: keyof JobTimers, at: number, action: () => void): void {
    if (this.stopped) {
      return;
    }

    const { clock } = this.options;
    const timers = this.timers.get(jobId) ?? {};
    this.timers.set(jobId, timers);

    const existing = timers[kind];
    if (existing !== undefined) {
      clock.clearTimeout(existing);
    }

    const delayMs = Math.min(Math.max(0, at - clock.now()), MAX_TIMER_DELAY_MS);
    timers[kind] = clock.setTimeout(() => {
      delete timers[kind];
      if (clock.now() < at) {
        this.armAt(jobId, kind, at, action);
      } else {
        action();
      }
    }, delayMs);
  }

  private clearTimers(jobId: string): void {
    const timers = this.timers.get(jobId);
    if (timers === undefined) {
      return;
    }

    for (const handle of [timers.launch, timers.expiry]) {
      if (handle !== undefined) {
        this.options.clock.clearTimeout(handle);
      }
    }

    this.timers.delete(jobId);
  }
}

function countsOf(outcome: CancelOutcome): { cancelledRuns: number; runningRuns: number } {
  return {
    cancelledRuns: outcome.cancelledDeviceIds.length,
    runningRuns: outcome.runningDeviceIds.length,
  };
}
