import PQueue from 'p-queue';

import { type Clock, sleep, type TimerHandle } from '../clock.js';
import type { RunDefaults } from '../config/types.js';
import type { DeviceConfig, OpenSession, TrustStore } from '../devices/types.js';
import type { Logger } from '../logging.js';
import type { CancelOutcome } from '../store/jobs.js';
import type { Store } from '../store/store.js';
import type { RunOutcome, StoredJob } from '../store/types.js';
import { executeRun, type ReadCredentials, type RunEnvironment } from './execute-run.js';
import { type AbortReason, outcomeFromAbort, settleOutcome } from './outcomes.js';
import { RunSlots, type Ticket } from './run-slots.js';

export type RunnerOptions = {
  store: Store;
  /** The site inventory; runs on devices missing from it fail with DEVICE_NOT_FOUND. */
  devices: readonly DeviceConfig[];
  openSession: OpenSession;
  readCredentials: ReadCredentials;
  /** Pins of host keys and certificates. Default: the store's device records. */
  trust?: TrustStore;
  clock: Clock;
  logger: Logger;
  limits: RunDefaults;
  /** Wait before retrying a store write that failed, such as on a full disk. Default 5000 ms. */
  storeRetryMs?: number;
};

type ActiveRun = {
  jobId: string;
  controller: AbortController;
  /** Set once, by the first abort; decides the state of a run that did not succeed. */
  abortReason?: AbortReason;
};

const EXPIRED_REASON = {
  state: 'failed',
  reasonCode: 'EXPIRED',
  reasonMessage: 'the job expired before the run could start',
} as const;

/**
 * Runs scripts on devices. At most `limits.concurrency` runs execute at once over all jobs, and
 * at most `maxConcurrency` of one job. Two runs never overlap on one device, even from two jobs.
 * Once `maxErrors` runs of a job failed, its remaining runs are skipped. Each run has a time
 * limit and can be cancelled while queued or running.
 *
 * Every state change is written to the store before the runner acts on it: a run is marked
 * `running` before the device is contacted, so after a crash it is found `running`, marked
 * `interrupted` and never started again.
 */
export class Runner {
  private readonly options: RunnerOptions;

  private readonly logger: Logger;

  private readonly queue: PQueue;

  private readonly slots = new RunSlots();

  private readonly devices: ReadonlyMap<string, DeviceConfig>;

  private readonly environment: RunEnvironment;

  /** Runs that have been started and not yet recorded, by ticket key. */
  private readonly active = new Map<string, ActiveRun>();

  /** Outcomes whose write failed, by ticket key; written again by the retry timer. */
  private readonly unsaved = new Map<string, { ticket: Ticket; outcome: RunOutcome }>();

  /** Set while a store write is failing; no run starts until the retry timer clears it. */
  private retryTimer: TimerHandle | undefined;

  private stopping = false;

  /** Resolvers of `whenIdle`, called once no ticket is waiting, queued, running or unsaved. */
  private idleWaiters: Array<() => void> = [];

  constructor(options: RunnerOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'runner' });
    this.queue = new PQueue({ concurrency: options.limits.concurrency });
    this.devices = new Map(options.devices.map((device) => [device.id, device]));
    this.environment = {
      store: options.store,
      openSession: options.openSession,
      readCredentials: options.readCredentials,
      trust: options.trust ?? options.store.devices,
      clock: options.clock,
      connectTimeoutMs: options.limits.connectTimeoutMs,
      commandTimeoutMs: options.limits.commandTimeoutMs,
      outputCapBytes: options.limits.outputCapBytes,
    };
  }

  /** Device ids of the inventory, in configuration order. */
  get inventory(): string[] {
    return [...this.devices.keys()];
  }

  /** Runs currently executing on devices. */
  get runningCount(): number {
    return this.active.size;
  }

  /**
   * Queues the given pending runs of a launched job. A run already queued or running is not
   * queued again.
   */
  enqueue(job: StoredJob, deviceIds: readonly string[]): void {
    if (this.stopping) {
      return;
    }

    for (const deviceId of deviceIds) {
      this.slots.add({ job, deviceId, key: `${job.id}/${deviceId}` });
    }

    this.applyMaxErrors(job);
    this.pump();
  }

  /**
   * Cancels a job: its pending runs become `cancelled` in one transaction without touching their
   * devices, and its running runs are aborted and end `cancelled`. Throws JOB_NOT_FOUND.
   */
  cancel(jobId: string): CancelOutcome {
    const outcome = this.options.store.jobs.cancel(jobId, this.inventory, this.options.clock.now());
    this.slots.dropWaiting(jobId);

    for (const run of this.active.values()) {
      if (run.jobId === jobId) {
        this.abort(run, 'cancel');
      }
    }

    this.checkIdle();
    return outcome;
  }

  /** Fails the job's runs that have not started with EXPIRED; returns their device ids. */
  expire(jobId: string): string[] {
    const settled = this.options.store.runs.settlePending(
      jobId,
      EXPIRED_REASON,
      this.options.clock.now(),
    );
    this.slots.dropWaiting(jobId);
    this.checkIdle();
    return settled;
  }

  /** Resolves once no run is waiting, queued, running or waiting to be written. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /**
   * Stops starting runs, gives running scripts `limits.shutdownDrainMs` to finish, then aborts
   * the rest, which end `interrupted`. Runs not started stay `pending` for the next start.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.slots.dropAllWaiting();

    const drained = this.queue.onIdle();
    await Promise.race([drained, sleep(this.options.clock, this.options.limits.shutdownDrainMs)]);

    for (const run of this.active.values()) {
      this.abort(run, 'shutdown');
    }

    await drained;
    this.writeUnsaved();
    if (this.retryTimer !== undefined) {
      this.options.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }

    if (this.unsaved.size > 0) {
      this.logger.error(
        { runs: [...this.unsaved.keys()] },
        'results not stored at shutdown; these runs will be marked interrupted at the next start',
      );
    }
  }

  /** Hands every ticket whose device is free and whose job is under its limit to the queue. */
  private pump(): void {
    if (this.stopping || this.retryTimer !== undefined) {
      return;
    }

    for (const ticket of this.slots.takeReady()) {
      void this.runTicket(ticket);
    }
  }

  /** Runs a ticket through the global queue and frees its device afterwards. Never rejects. */
  private async runTicket(ticket: Ticket): Promise<void> {
    let result: 'done' | 'retry' = 'done';

    try {
      result = await this.queue.add(() => this.execute(ticket));
    } catch (error) {
      const ids = { jobId: ticket.job.id, deviceId: ticket.deviceId };
      this.logger.error({ err: error, ...ids }, 'run task failed');
    } finally {
      this.slots.release(ticket, result === 'retry');
      this.pump();
      this.checkIdle();
    }
  }

  /** Runs one ticket. Returns `retry` when the store could not record the start. */
  private async execute(ticket: Ticket): Promise<'done' | 'retry'> {
    const { job, deviceId } = ticket;
    const { store, clock } = this.options;
    const logger = this.logger.child({ jobId: job.id, deviceId });
    const device = this.devices.get(deviceId);

    if (this.stopping) {
      return 'done';
    }

    try {
      if (device === undefined) {
        store.runs.settlePending(job.id, DEVICE_MISSING_REASON, clock.now(), [deviceId]);
        return 'done';
      }

      if (clock.now() >= job.expiresAt) {
        store.runs.settlePending(job.id, EXPIRED_REASON, clock.now(), [deviceId]);
        return 'done';
      }

      if (!store.runs.start(job.id, deviceId, clock.now())) {
        return 'done';
      }
    } catch (error) {
      logger.error(
        { err: error },
        'run not started because the store write failed; retrying later',
      );
      this.blockUntilRetry();
      return 'retry';
    }

    logger.info({ transport: device.transport }, 'run started');
    const outcome = await this.runOnDevice(ticket, device, logger);
    this.record(ticket, outcome, logger);
    return 'done';
  }

  private async runOnDevice(
    ticket: Ticket,
    device: DeviceConfig,
    logger: Logger,
  ): Promise<RunOutcome> {
    const { clock } = this.options;
    const run: ActiveRun = { jobId: ticket.job.id, controller: new AbortController() };
    const timeoutMs = ticket.job.limits.runTimeoutMs ?? this.options.limits.runTimeoutMs;
    const deadlineAt = clock.now() + timeoutMs;
    const timer = clock.setTimeout(() => this.abort(run, 'timeout'), timeoutMs);
    this.active.set(ticket.key, run);

    try {
      const work = executeRun(
        { job: ticket.job, device, signal: run.controller.signal, deadlineAt, logger },
        this.environment,
      );
      const outcome = await this.settleOrAbandon(work, run, logger);
      return settleOutcome(outcome, run.abortReason);
    } finally {
      clock.clearTimeout(timer);
      this.active.delete(ticket.key);
    }
  }

  /**
   * Waits for the run, or, when the transport has not ended it `commandTimeoutMs` after an
   * abort, returns the abort's outcome so the result is recorded. The device stays reserved
   * until the transport does end, so no second script can start on it meanwhile.
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
          resolve(outcomeFromAbort(run.abortReason ?? 'cancel', clock.now()));
        }, this.options.limits.commandTimeoutMs);
      };
      run.controller.signal.addEventListener('abort', onAbort, { once: true });
    });

    const outcome = await Promise.race([work, abandoned]);
    if (abandonTimer !== undefined) {
      clock.clearTimeout(abandonTimer);
    }

    return outcome;
  }

  private abort(run: ActiveRun, reason: AbortReason): void {
    if (run.abortReason !== undefined) {
      return;
    }

    run.abortReason = reason;
    run.controller.abort(reason);
  }

  /** Writes a run's outcome; on a store failure keeps it and writes it again later. */
  private record(ticket: Ticket, outcome: RunOutcome, logger: Logger): void {
    try {
      const run = this.options.store.runs.finish(ticket.job.id, ticket.deviceId, outcome);
      logger.info(
        { state: outcome.state, reasonCode: outcome.reasonCode, outputBytes: outcome.outputBytes },
        'run finished',
      );
      if (run === undefined) {
        logger.warn('the run was no longer running when its result arrived; result dropped');
      }

      this.applyMaxErrors(ticket.job);
    } catch (error) {
      logger.error(
        { err: error },
        'run result not stored because the store write failed; retrying later',
      );
      this.unsaved.set(ticket.key, { ticket, outcome });
      this.blockUntilRetry();
    }
  }

  /** Skips the job's remaining runs once `maxErrors` of its runs failed. */
  private applyMaxErrors(job: StoredJob): void {
    const maxErrors = job.limits.maxErrors;
    if (maxErrors === undefined) {
      return;
    }

    const { store, clock } = this.options;
    if (store.runs.failedCount(job.id) < maxErrors) {
      return;
    }

    const skipped = store.runs.settlePending(
      job.id,
      {
        state: 'skipped',
        reasonCode: 'SKIPPED',
        reasonMessage: `the job reached its limit of ${maxErrors} failed runs`,
      },
      clock.now(),
    );
    this.slots.dropWaiting(job.id);
    if (skipped.length > 0) {
      this.logger.warn(
        { jobId: job.id, skipped: skipped.length, maxErrors },
        'remaining runs skipped',
      );
    }
  }

  private blockUntilRetry(): void {
    if (this.retryTimer !== undefined || this.stopping) {
      return;
    }

    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.writeUnsaved();
      this.pump();
      this.checkIdle();
    }, this.options.storeRetryMs ?? 5000);
  }

  private writeUnsaved(): void {
    // A write that fails again puts its entry back, so iterate over a copy.
    const entries = [...this.unsaved.values()];
    this.unsaved.clear();

    for (const { ticket, outcome } of entries) {
      const logger = this.logger.child({ jobId: ticket.job.id, deviceId: ticket.deviceId });
      this.record(ticket, outcome, logger);
    }
  }

  private checkIdle(): void {
    if (this.slots.size > 0 || this.unsaved.size > 0 || this.active.size > 0) {
      return;
    }

    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }
}

const DEVICE_MISSING_REASON = {
  state: 'failed',
  reasonCode: 'DEVICE_NOT_FOUND',
  reasonMessage: 'the device is not in the agent inventory; add it to the configuration',
} as const;
