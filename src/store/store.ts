import path from 'node:path';

import type { Database } from 'better-sqlite3';

import { type Clock, systemClock } from '../clock.js';
import type { Job } from '../jobs/types.js';
import { Backups } from './backups.js';
import type { StoreContext } from './context.js';
import { type OpenDatabaseOptions, openDatabase } from './database.js';
import { DeviceRecords } from './devices.js';
import { GroupCommit } from './group-commit.js';
import { Jobs } from './jobs.js';
import { Outbox } from './outbox.js';
import { Retention } from './retention.js';
import { Runs } from './runs.js';
import type { AcceptOutcome } from './types.js';

export type OpenStoreOptions = OpenDatabaseOptions & {
  /** Time source for timestamps the store sets itself, such as when a pin was made. */
  clock?: Clock;
};

/**
 * The agent's durable state in one SQLite file: jobs, runs, the outbox, device pins and facts,
 * and backups. Every method is synchronous and every write is one transaction, committed with a
 * full sync before the method returns. `groupCommit` lets callers share one such transaction.
 */
export class Store {
  /** Absolute path of the database file. */
  readonly file: string;

  /** The open connection, for pragmas and tests; the store's own statements are prepared once. */
  readonly database: Database;

  readonly outbox: Outbox;

  readonly runs: Runs;

  readonly jobs: Jobs;

  /** Pins and facts; also the daemon's TrustStore. */
  readonly devices: DeviceRecords;

  readonly backups: Backups;

  readonly retention: Retention;

  /** Shares one commit among writes requested together, such as a burst of run results. */
  readonly groupCommit: GroupCommit;

  private constructor(context: StoreContext, clock: Clock) {
    this.file = context.file;
    this.database = context.db;
    this.outbox = new Outbox(context);
    this.runs = new Runs(context, this.outbox);
    this.jobs = new Jobs(context, this.outbox, this.runs);
    this.devices = new DeviceRecords(context, () => clock.now());
    this.backups = new Backups(context);
    this.retention = new Retention(context);
    this.groupCommit = new GroupCommit(context);
  }

  /** Opens or creates the store; see `openDatabase` for the errors it throws. */
  static open(file: string, options: OpenStoreOptions = {}): Store {
    const absolute = path.resolve(file);
    const db = openDatabase(absolute, options);
    return new Store({ db, file: absolute }, options.clock ?? systemClock);
  }

  /** Job intake: see `Jobs.accept`. The caller acknowledges the job only after this returns. */
  acceptJob(job: Job): AcceptOutcome {
    return this.jobs.accept(job);
  }

  /**
   * Commits writes still queued in `groupCommit`, then closes the database, checkpointing the
   * WAL into the main file. Safe to call twice.
   */
  close(): void {
    if (this.database.open) {
      this.groupCommit.flush();
      this.database.close();
    }
  }
}
