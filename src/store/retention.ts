import type { RetentionConfig } from '../config/types.js';
import { readQuery, type StoreContext, writeTransaction } from './context.js';
import type { RetentionReport } from './types.js';

/** Jobs deleted per transaction while the database is over its size limit. */
const SIZE_BATCH = 16;

/**
 * A job retention may delete: finished, no run left `pending` or `running`, and no outbox event
 * the control plane has not acknowledged (acknowledged events are deleted at once, so any event
 * left is unacknowledged).
 */
const DELETABLE = `
  verdict != 'pending'
  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = jobs.id AND r.state IN ('pending', 'running'))
  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = jobs.id)`;

/**
 * Deletes finished jobs (with their runs and backups) older than the age limit, then the oldest
 * finished jobs while the database is larger than the size limit. Jobs still needed are kept even
 * when that leaves the database over the limit. A deleted job leaves a tombstone until it
 * expires, so a resent copy is recognised as a duplicate and never run again.
 */
export class Retention {
  private readonly context: StoreContext;

  private readonly statements: ReturnType<typeof prepareRetentionStatements>;

  constructor(context: StoreContext) {
    this.context = context;
    this.statements = prepareRetentionStatements(context);
  }

  /** Database pages in use times the page size, in bytes. */
  usedBytes(): number {
    return readQuery(this.context, 'measuring the database', () => {
      const db = this.context.db;
      const pages = db.pragma('page_count', { simple: true }) as number;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      return (pages - free) * pageSize;
    });
  }

  prune(policy: RetentionConfig, now: number): RetentionReport {
    let deletedJobs = this.deleteJobs(this.statements.olderThan.all(now - policy.maxAgeMs), now);

    while (this.usedBytes() > policy.maxSizeBytes) {
      const batch = this.statements.oldest.all(SIZE_BATCH);
      if (batch.length === 0) {
        break;
      }

      deletedJobs += this.deleteJobs(batch, now);
    }

    writeTransaction(this.context, 'deleting expired tombstones', () => {
      this.statements.dropTombstones.run(now);
    });
    // Returns freed pages to the file system; the WAL shrinks at the next checkpoint.
    readQuery(this.context, 'vacuuming', () => this.context.db.pragma('incremental_vacuum'));

    const usedBytes = this.usedBytes();
    return { deletedJobs, usedBytes, overLimit: usedBytes > policy.maxSizeBytes };
  }

  private deleteJobs(jobIds: readonly string[], now: number): number {
    if (jobIds.length === 0) {
      return 0;
    }

    return writeTransaction(this.context, 'deleting old jobs', () => {
      let deleted = 0;

      for (const jobId of jobIds) {
        const job = this.statements.identity.get(jobId);
        if (job === undefined || this.statements.deleteJob.run(jobId).changes === 0) {
          continue;
        }

        deleted += 1;
        if (job.expires_at > now) {
          this.statements.tombstone.run(jobId, job.content_digest, job.expires_at);
        }
      }

      return deleted;
    });
  }
}

function prepareRetentionStatements({ db }: StoreContext) {
  return {
    olderThan: db
      .prepare<[number], string>(`SELECT id FROM jobs WHERE ${DELETABLE} AND finished_at < ?`)
      .pluck(),
    oldest: db
      .prepare<[number], string>(
        `SELECT id FROM jobs WHERE ${DELETABLE} ORDER BY finished_at, received_at LIMIT ?`,
      )
      .pluck(),
    // The DELETABLE condition is checked again inside the transaction that deletes.
    deleteJob: db.prepare<[string]>(`DELETE FROM jobs WHERE id = ? AND ${DELETABLE}`),
    identity: db.prepare<[string], { content_digest: string; expires_at: number }>(
      'SELECT content_digest, expires_at FROM jobs WHERE id = ?',
    ),
    tombstone: db.prepare<[string, string, number]>(
      'INSERT OR REPLACE INTO job_tombstones (id, content_digest, expires_at) VALUES (?, ?, ?)',
    ),
    dropTombstones: db.prepare<[number]>('DELETE FROM job_tombstones WHERE expires_at <= ?'),
  };
}
