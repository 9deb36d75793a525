import type { Statement } from 'better-sqlite3';

import { readQuery, type StoreContext, writeTransaction } from './context.js';

/** A device's `/export` text captured before a job's script ran on it. */
export type Backup = {
  jobId: string;
  deviceId: string;
  /** Milliseconds since the epoch. */
  capturedAt: number;
  config: string;
};

type BackupRow = { job_id: string; device_id: string; captured_at: number; config: string };

/** Configuration backups, one per run at most; deleted with their job. */
export class Backups {
  private readonly context: StoreContext;

  private readonly saveStatement: Statement<[string, string, number, string]>;

  private readonly getStatement: Statement<[string, string], BackupRow>;

  constructor(context: StoreContext) {
    this.context = context;
    this.saveStatement = context.db.prepare(
      'INSERT OR REPLACE INTO backups (job_id, device_id, captured_at, config) VALUES (?, ?, ?, ?)',
    );
    this.getStatement = context.db.prepare(
      'SELECT job_id, device_id, captured_at, config FROM backups WHERE job_id = ? AND device_id = ?',
    );
  }

  save(backup: Backup): void {
    writeTransaction(this.context, `saving the backup of device ${backup.deviceId}`, () => {
      this.saveStatement.run(backup.jobId, backup.deviceId, backup.capturedAt, backup.config);
    });
  }

  get(jobId: string, deviceId: string): Backup | undefined {
    return readQuery(this.context, `reading the backup of device ${deviceId}`, () => {
      const row = this.getStatement.get(jobId, deviceId);
      if (row === undefined) {
        return undefined;
      }

      return {
        jobId: row.job_id,
        deviceId: row.device_id,
        capturedAt: row.captured_at,
        config: row.config,
      };
    });
  }
}
