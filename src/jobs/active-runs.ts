import type { Clock, TimerHandle } from '../clock.js';
import type { DeviceConfig } from '../devices/types.js';
import type { Logger } from '../logging.js';
import type { RunOutcome } from '../store/types.js';
import { executeRun, type RunEnvironment } from './execute-run.js';
import { type AbortReason, outcomeFromAbort, settleOutcome } from './outcomes.js';
import type { Ticket } from './run-slots.js';

type ActiveRun = {
  jobId: string;
  controller: AbortController;
  /** Set once, by the first abort; decides the state of a run that did not succeed. */
  abortReason?: AbortReason;
  /** Set once the script is handed to the device session; never reset. */
  scriptSent: boolean;
};

/** Result of `ActiveRuns.execute`, available once the run's outcome is known. */
export type ExecutedRun = {
  outcome: RunOutcome;
  /**
   * Settles once the transport has let go of the device. It is later than the outcome only when
   * the transport ignored an abort; the device must stay reserved until then.
   */
  released: Promise<void>;
};

export type ActiveRunsOptions = {
  environment: RunEnvironment;
  clock: Clock;
  /** Run time limit of a job that sets none, in milliseconds. */
  runTimeoutMs: number;
  /** Wait after an abort before a run is recorded without its transport, in milliseconds. */
  abandonAfterMs: number;
};

/**
 * Runs executing on devices: each with its time limit and abort controller, so that a run can
 * be timed out, cancelled with its job, or interrupted at shutdown.
 */
export class ActiveRuns {
  private readonly options: ActiveRunsOptions;

  /** Runs started and not yet finished, by ticket key. */
  private readonly runs = new Map<string, ActiveRun>();

  constructor(options: ActiveRunsOptions) {
    this.options = options;
  }

  get size(): number {
    return this.runs.size;
  }

  /** Runs a ticket whose run the store has marked `running`, and returns its outcome. */
  async execute(ticket: Ticket, device: DeviceConfig, logger: Logger): Promise<ExecutedRun> {
    const { clock } = this.options;
    const run: ActiveRun = {
      jobId: ticket.job.id,
      controller: new AbortController(),
      scriptSent: false,
    };
    const timeoutMs = ticket.job.limits.runTimeoutMs ?? this.options.runTimeoutMs;
    const deadlineAt = clock.now() + timeoutMs;
    const timer = clock.setTimeout(() => abort(run, 'timeout'), timeoutMs);
    this.runs.set(ticket.key, run);

    try {
      const work = executeRun(
        {
          job: ticket.job,
          device,
          signal: run.controller.signal,
          deadlineAt,
          logger,
          onScriptSent: () => {
            run.scriptSent = true;
          },
        },
        this.options.environment,
      );
      const outcome = await this.settleOrAbandon(work, run, logger);
      const released = work.then(() => undefined);
      return { outcome: settleOutcome(outcome, run.abortReason, run.scriptSent), released };
    } finally {
      clock.clearTimeout(timer);
      this.runs.delete(ticket.key);
    }
  }

  /** Aborts the running runs of one job, or of every job when `jobId` is undefined. */
  abort(jobId: string | undefined, reason: AbortReason): number {
    let aborted = 0;

    for (const run of this.runs.values()) {
      if (jobId === undefined || run.jobId === jobId) {
        abort(run, reason);
        aborted += 1;
      }
    }

    return aborted;
  }

  /**
   * Waits for the run, or, when the transport has not ended it `abandonAfterMs` after an
   * abort, returns the abort's outcome so that the result is recorded anyway.
   */
  private async settleOrAbandon(
    work: Promise<RunOutcome>,
    run: ActiveRun,
    logger: Logger,
  ): Promise<RunOutcome> {
    const { clock } = this.options;
    let abandonTimer: TimerHandle | undefined;
    const abandoned = new Promise<RunOutcome>((resolve) => {
      const onAbort = (): void => {
        abandonTimer = clock.setTimeout(() => {
          logger.error(
            'the device session ignored the abort; recording the run and keeping the device reserved',
          );
          resolve(outcomeFromAbort(run.abortReason ?? 'cancel', run.scriptSent, clock.now()));
        }, this.options.abandonAfterMs);
      };
      run.controller.signal.addEventListener('abort', onAbort, { once: true });
    });

    const outcome = await Promise.race([work, abandoned]);
    if (abandonTimer !== undefined) {
      clock.clearTimeout(abandonTimer);
    }

    return outcome;
  }
}

function abort(run: ActiveRun, reason: AbortReason): void {
  if (run.abortReason !== undefined) {
    return;
  }

  run.abortReason = reason;
  run.controller.abort(reason);
}
