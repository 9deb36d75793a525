import type { Transaction } from 'better-sqlite3';

import type { StoreContext } from './context.js';
import { translateStoreError } from './sqlite-errors.js';

type WriteOutcome = { value?: unknown; error?: unknown };

type QueuedWrite = {
  operation: string;
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

/**
 * Commits the writes requested during one turn of the event loop in a single transaction, so a
 * burst of run starts and results costs one WAL sync instead of one each. The promise of a
 * write settles only after that transaction committed with the database's `synchronous=FULL`,
 * so awaiting it gives the durability of a transaction of its own.
 *
 * A write that throws is rolled back alone and rejects only its own promise: the batch is then
 * run again with each write in a savepoint of its own, which costs about as much as the write
 * itself, so only a batch with a failing write pays for it. A write may therefore run twice,
 * and must change nothing outside the database. When the shared transaction fails as a whole
 * (a full disk, an I/O error), every write of the batch is rolled back and every promise
 * rejects with the store error.
 */
export class GroupCommit {
  private readonly context: StoreContext;

  /** Runs a batch in one immediate transaction; any write that throws rolls all back. */
  private readonly commitTogether: Transaction<(batch: QueuedWrite[]) => unknown[]>;

  /** Runs a batch in one immediate transaction, each write in a savepoint of its own. */
  private readonly commitIsolated: Transaction<(batch: QueuedWrite[]) => WriteOutcome[]>;

  /** Runs one write in a savepoint of the open transaction. */
  private readonly savepoint: Transaction<(body: () => unknown) => unknown>;

  /** Writes waiting for the next flush, in request order. */
  private queue: QueuedWrite[] = [];

  /** True while a flush is scheduled; set by the first write after a flush. */
  private scheduled = false;

  constructor(context: StoreContext) {
    this.context = context;
    this.savepoint = context.db.transaction((body: () => unknown) => body());
    this.commitTogether = context.db.transaction((batch: QueuedWrite[]) =>
      batch.map((write) => write.body()),
    );
    this.commitIsolated = context.db.transaction((batch: QueuedWrite[]) =>
      batch.map((write) => this.runWrite(write)),
    );
  }

  /** Writes queued and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues `body` for the next shared transaction and resolves with its return value once that
   * transaction committed. `body` runs later, in a `setImmediate` callback, so it must read any
   * time or state it depends on when it runs, or be given them.
   */
  write<T>(operation: string, body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        operation,
        body,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Commits every queued write now; called by the scheduled flush and by `Store.close`. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) {
      return;
    }

    const outcomes = this.tryTogether(batch) ?? this.commitIsolatedOrReject(batch);
    if (outcomes === undefined) {
      return;
    }

    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome !== undefined && 'error' in outcome) {
        write.reject(outcome.error);
      } else {
        write.resolve(outcome?.value);
      }
    });
  }

  /** Commits a batch without savepoints; returns undefined when anything failed. */
  private tryTogether(batch: QueuedWrite[]): WriteOutcome[] | undefined {
    try {
      return this.commitTogether.immediate(batch).map((value) => ({ value }));
    } catch {
      // Everything was rolled back; the isolated attempt reports the failure.
      return undefined;
    }
  }

  /**
   * Runs a batch again after one of its writes failed, each write in a savepoint so that only
   * the failing ones are lost. Returns the outcomes, or rejects every write and returns
   * undefined when the transaction fails as a whole.
   */
  private commitIsolatedOrReject(batch: QueuedWrite[]): WriteOutcome[] | undefined {
    try {
      return this.commitIsolated.immediate(batch);
    } catch (error) {
      const operation = `committing ${batch.length} writes`;
      const failure = translateStoreError(error, this.context.file, operation);
      for (const write of batch) {
        write.reject(failure);
      }

      return undefined;
    }
  }

  /**
   * Runs one write in a savepoint, so that its failure rolls back only its own changes. Throws
   * when SQLite rolled back the whole transaction instead, which it does on a full disk and on
   * I/O errors: the earlier writes of the batch are then lost too, and later ones must not run
   * outside the transaction.
   */
  private runWrite(write: QueuedWrite): WriteOutcome {
    try {
      return { value: this.savepoint(write.body) };
    } catch (error) {
      const failure = translateStoreError(error, this.context.file, write.operation);
      if (!this.context.db.inTransaction) {
        throw failure;
      }

      return { error: failure };
    }
  }

  private schedule(): void {
    if (this.scheduled) {
      return;
    }

    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}
