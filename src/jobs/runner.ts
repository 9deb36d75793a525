import PQueue from 'p-queue';

import { type Clock, sleep, type TimerHandle } from '../clock.js';
import type { RunDefaults } from '../config/types.js';
import type { DeviceConfig, OpenSession, TrustStore } from '../devices/types.js';
import type { Logger } from '../logging.js';
import type { CancelOutcome } from '../store/jobs.js';
import type { Store } from '../store/store.js';
import type { RunOutcome, StoredJob } from '../store/types.js';
import { ActiveRuns } from './active-runs.js';
import type { ReadCredentials, RunEnvironment } from './execute-run.js';
import { RunSlots, type Ticket } from './run-slots.js';
import type { Run } from './types.js';

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

  /** The inventory by device id; replaced whole by `setInventory`, never changed in place. */
  private devices: ReadonlyMap<string, DeviceConfig>;

  private readonly activeRuns: ActiveRuns;

  /** Outcomes whose write failed, by ticket key; written again by the retry timer. */
  private readonly unsaved = new Map<string, { ticket: Ticket; outcome: RunOutcome }>();

  /** Set while a store write is failing; no run starts until the retry timer clears it. */
  private retryTimer: TimerHandle | undefined;

  private stopping = false;

  /** Runs recorded `interrupted` since `stop` began; only grows. */
  private interruptedWhileStopping = 0;

  /** Result writes in progress; `stop` waits for them before it writes what failed again. */
  private readonly recording = new Set<Promise<void>>();

  /** Resolvers of `whenIdle`, called once no ticket is waiting, queued, running or unsaved. */
  private idleWaiters: Array<() => void> = [];

  constructor(options: RunnerOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'runner' });
    this.queue = new PQueue({ concurrency: options.limits.concurrency });
    this.devices = new Map(options.devices.map((device) => [device.id, device]));
    const environment: RunEnvironment = {
      store: options.store,
      openSession: options.openSession,
      readCredentials: options.readCredentials,
      trust: options.trust ?? options.store.devices,
      clock: options.clock,
      connectTimeoutMs: options.limits.connectTimeoutMs,
      commandTimeoutMs: options.limits.commandTimeoutMs,
      outputCapBytes: options.limits.outputCapBytes,
    };
    this.activeRuns = new ActiveRuns({
      environment,
      clock: options.clock,
      runTimeoutMs: options.limits.runTimeoutMs,
      abandonAfterMs: options.limits.commandTimeoutMs,
    });
  }

  /** Device ids of the inventory, in configuration order. */
  get inventory(): string[] {
    return [...this.devices.keys()];
  }

  /**
   * Replaces the inventory, as on a configuration reload. Running runs keep the device settings
   * they started with. A queued run whose device is gone fails with DEVICE_NOT_FOUND when its
   * turn comes, and `all` jobs launched later see the new inventory.
   */
  setInventory(devices: readonly DeviceConfig[]): void {
    this.devices = new Map(devices.map((device) => [device.id, device]));
  }

  /** Runs that `stop` aborted and recorded `interrupted`, for the stop's summary. */
  get interruptedByStop(): number {
    return this.interruptedWhileStopping;
  }

  /** Runs currently executing on devices. */
  get runningCount(): number {
    return this.activeRuns.size;
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

    this.activeRuns.abort(jobId, 'cancel');
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

    const { clock, limits } = this.options;
    const drained = this.queue.onIdle();
    await Promise.race([drained, sleep(clock, limits.shutdownDrainMs)]);

    const aborted = this.activeRuns.abort(undefined, 'shutdown');
    if (aborted > 0) {
      this.logger.warn(
        { runs: aborted },
        'runs still executing after the drain time; aborting them',
      );
      // A transport that ignores the abort is abandoned after commandTimeoutMs; give it twice that.
      await Promise.race([drained, sleep(clock, 2 * limits.commandTimeoutMs)]);
    }

    await Promise.all(this.recording);
    this.writeUnsaved();
    if (this.retryTimer !== undefined) {
      this.options.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }

    if (this.unsaved.size > 0) {
      // NOTE: these outcomes live only in memory, so the next start marks their runs
      // `interrupted`, including runs that failed before their script was sent (AUTH_FAILED).
      this.logger.error(
        {
          runs: [...this.unsaved.values()].map(({ ticket, outcome }) => ({
            run: ticket.key,
            state: outcome.state,
            reasonCode: outcome.reasonCode,
          })),
        },
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

  /**
   * Runs a ticket through the global queue and frees its device once its result is stored.
   * Never rejects.
   */
  private async runTicket(ticket: Ticket): Promise<void> {
    let retry = false;

    try {
      const execution = await this.queue.add(() => this.execute(ticket));
      retry = execution === 'retry';
      if (execution !== 'retry') {
        await execution.recorded;
      }
    } catch (error) {
      const ids = { jobId: ticket.job.id, deviceId: ticket.deviceId };
      this.logger.error({ err: error, ...ids }, 'run task failed');
    } finally {
      this.slots.release(ticket, retry);
      this.pump();
      this.checkIdle();
    }
  }

  /**
   * Runs one ticket. Returns `retry` when the store could not record the start, and otherwise
   * the write of the run's result, which the caller awaits outside the queue: the next run
   * takes the queue place at once, and its start shares one commit with this result.
   */
  private async execute(ticket: Ticket): Promise<'retry' | { recorded: Promise<void> }> {
    const done = { recorded: Promise.resolve() };
    const { job, deviceId } = ticket;
    const { store, clock } = this.options;
    const logger = this.logger.child({ jobId: job.id, deviceId });
    const device = this.devices.get(deviceId);

    if (this.stopping) {
      return done;
    }

    try {
      if (device === undefined) {
        store.runs.settlePending(job.id, DEVICE_MISSING_REASON, clock.now(), [deviceId]);
        return done;
      }

      if (clock.now() >= job.expiresAt) {
        store.runs.settlePending(job.id, EXPIRED_REASON, clock.now(), [deviceId]);
        return done;
      }

      const startedAt = clock.now();
      const started = await store.groupCommit.write(`starting run ${ticket.key}`, () =>
        store.runs.start(job.id, deviceId, startedAt),
      );
      if (!started) {
        return done;
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
    const { outcome, released } = await this.activeRuns.execute(ticket, device, logger);
    const recorded = this.record(ticket, outcome, logger);
    this.recording.add(recorded);
    void recorded.finally(() => this.recording.delete(recorded));
    // The queue place, and later the device, are released only once the transport let go.
    await released;
    return { recorded };
  }

  /**
   * Writes a run's outcome, sharing the commit with other results of the same moment; on a
   * store failure keeps it and writes it again later.
   */
  private async record(ticket: Ticket, outcome: RunOutcome, logger: Logger): Promise<void> {
    const { store } = this.options;
    try {
      const run = await store.groupCommit.write(`recording run ${ticket.key}`, () =>
        store.runs.finish(ticket.job.id, ticket.deviceId, outcome),
      );
      this.recorded(ticket, outcome, run, logger);
    } catch (error) {
      this.keepUnsaved(ticket, outcome, logger, error);
    }
  }

  private recorded(ticket: Ticket, outcome: RunOutcome, run: Run | undefined, logger: Logger) {
    logger.info(
      { state: outcome.state, reasonCode: outcome.reasonCode, outputBytes: outcome.outputBytes },
      'run finished',
    );
    if (run === undefined) {
      logger.warn('the run was no longer running when its result arrived; result dropped');
    } else if (this.stopping && outcome.state === 'interrupted') {
      this.interruptedWhileStopping += 1;
    }

    this.applyMaxErrors(ticket.job);
  }

  private keepUnsaved(ticket: Ticket, outcome: RunOutcome, logger: Logger, error: unknown) {
    logger.error(
      { err: error },
      'run result not stored because the store write failed; retrying later',
    );
    this.unsaved.set(ticket.key, { ticket, outcome });
    this.blockUntilRetry();
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

  /** Writes the outcomes whose write failed, each in a transaction of its own. */
  private writeUnsaved(): void {
    // A write that fails again puts its entry back, so iterate over a copy.
    const entries = [...this.unsaved.values()];
    this.unsaved.clear();

    for (const { ticket, outcome } of entries) {
      const logger = this.logger.child({ jobId: ticket.job.id, deviceId: ticket.deviceId });
      try {
        const run = this.options.store.runs.finish(ticket.job.id, ticket.deviceId, outcome);
        this.recorded(ticket, outcome, run, logger);
      } catch (error) {
        this.keepUnsaved(ticket, outcome, logger, error);
      }
    }
  }

  private checkIdle(): void {
    if (this.slots.size > 0 || this.unsaved.size > 0 || this.activeRuns.size > 0) {
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
