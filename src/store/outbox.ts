import type { Statement } from 'better-sqlite3';

import { FINAL_RUN_STATES } from '../jobs/types.js';
import { readQuery, type StoreContext, withoutSync, writeTransaction } from './context.js';
import type { OutboxEntry, OutboxEvent } from './types.js';

type OutboxRow = {
  seq: number;
  created_at: number;
  payload: string;
  run_output: string | null;
};

/**
 * Changes waiting for the control plane's acknowledgement, in commit order. Acknowledged events
 * are deleted; sequence numbers keep increasing after that because the table uses AUTOINCREMENT.
 */
export class Outbox {
  private readonly context: StoreContext;

  private readonly insertStatement: Statement<[number, string, string, string | null, string]>;

  private readonly readStatement: Statement<[number, number], OutboxRow>;

  private readonly deleteStatement: Statement<[number]>;

  private readonly depthStatement: Statement<[], number>;

  private readonly lastSeqStatement: Statement<[], number>;

  private readonly acknowledgedStatement: Statement<[], number>;

  private readonly setAcknowledgedStatement: Statement<[number]>;

  /** Fixed when the store was created; see `id`. */
  private readonly outboxId: string;

  /** Called after events are appended; see `subscribe`. */
  private readonly listeners = new Set<() => void>();

  /** True while a notification is scheduled, so a burst of appends notifies once. */
  private notifyScheduled = false;

  constructor(context: StoreContext) {
    this.context = context;
    const db = context.db;

    this.insertStatement = db.prepare(
      'INSERT INTO outbox (created_at, type, job_id, device_id, payload) VALUES (?, ?, ?, ?, ?)',
    );
    // A final run's output is joined from the run so that it is stored only once.
    this.readStatement = db.prepare(`
      SELECT o.seq, o.created_at, o.payload, r.output AS run_output
      FROM outbox o
      LEFT JOIN runs r ON o.type = 'run.updated' AND r.job_id = o.job_id AND r.device_id = o.device_id
      WHERE o.seq > ?
      ORDER BY o.seq
      LIMIT ?`);
    this.deleteStatement = db.prepare('DELETE FROM outbox WHERE seq <= ?');
    this.depthStatement = db.prepare<[], number>('SELECT count(*) FROM outbox').pluck();
    this.lastSeqStatement = db
      .prepare<[], number>(
        "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'outbox'",
      )
      .pluck();
    this.acknowledgedStatement = db
      .prepare<[], number>("SELECT value FROM settings WHERE key = 'outbox_acknowledged_seq'")
      .pluck();
    this.setAcknowledgedStatement = db.prepare(
      "UPDATE settings SET value = ? WHERE key = 'outbox_acknowledged_seq'",
    );
    this.outboxId =
      readQuery(context, 'reading the outbox id', () =>
        db.prepare<[], string>("SELECT value FROM settings WHERE key = 'outbox_id'").pluck().get(),
      ) ?? '';
  }

  /**
   * A UUID made when the store was created. A new store restarts sequence numbers at 1, and the
   * new id lets the control plane forget the old numbers.
   */
  get id(): string {
    return this.outboxId;
  }

  /**
   * Appends an event and returns its sequence number. Call it inside the transaction of the
   * change the event describes.
   */
  append(event: OutboxEvent, now: number): number {
    const deviceId = event.type === 'run.updated' ? event.run.deviceId : null;
    const result = this.insertStatement.run(
      now,
      event.type,
      event.jobId,
      deviceId,
      JSON.stringify(event),
    );
    this.scheduleNotify();
    return Number(result.lastInsertRowid);
  }

  /**
   * Calls `listener` after new events are appended, such as to wake the uplink. Calls happen in
   * a later task, after the appending transaction has committed or rolled back, so a listener
   * may find nothing new. A listener must not throw. Returns a function that unsubscribes.
   */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled || this.listeners.size === 0) {
      return;
    }

    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const listener of this.listeners) {
        listener();
      }
    });
  }

  /** Returns up to `limit` events with a sequence number greater than `afterSeq`, oldest first. */
  read(afterSeq: number, limit: number): OutboxEntry[] {
    return readQuery(this.context, 'reading the outbox', () =>
      this.readStatement.all(afterSeq, limit).map(entryFromRow),
    );
  }

  /**
   * Acknowledges every event up to and including `seq`, deleting them. A sequence number past
   * the last event acknowledges only what exists, so events written later are not lost.
   * Returns the number of events deleted.
   *
   * The commit does not wait for the disk. An acknowledgement lost in a power failure only
   * makes the agent send those events again, and the control plane records a resent event
   * once. Waiting for the disk here put one sync per window of events on the replay's path.
   */
  acknowledge(seq: number): number {
    return withoutSync(this.context, () =>
      writeTransaction(this.context, 'acknowledging outbox events', () => {
        const upTo = Math.min(seq, this.lastSeqStatement.get() ?? 0);
        const deleted = this.deleteStatement.run(upTo).changes;
        if (upTo > this.acknowledgedSeq()) {
          this.setAcknowledgedStatement.run(upTo);
        }

        return deleted;
      }),
    );
  }

  /** Number of events not yet acknowledged. */
  depth(): number {
    return readQuery(this.context, 'counting outbox events', () => this.depthStatement.get() ?? 0);
  }

  /** Sequence number of the newest event ever written, 0 before the first. */
  lastSeq(): number {
    return readQuery(this.context, 'reading the outbox', () => this.lastSeqStatement.get() ?? 0);
  }

  /** Highest sequence number the control plane has acknowledged. */
  acknowledgedSeq(): number {
    return readQuery(
      this.context,
      'reading the outbox',
      () => this.acknowledgedStatement.get() ?? 0,
    );
  }
}

function entryFromRow(row: OutboxRow): OutboxEntry {
  const event = JSON.parse(row.payload) as OutboxEvent;

  if (
    event.type === 'run.updated' &&
    FINAL_RUN_STATES.has(event.run.state) &&
    row.run_output !== null
  ) {
    event.run.output = row.run_output;
  }

  return { seq: row.seq, createdAt: row.created_at, event };
}
