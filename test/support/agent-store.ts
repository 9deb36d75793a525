import Database from 'better-sqlite3';
import { AgentError } from '../../src/errors.js';
import type { Job } from '../../src/jobs/types.js';
import type { RunReport } from '../../src/protocol/messages.js';
import type { OutboxEvent, UplinkOutbox } from '../../src/uplink/types.js';

/**
 * A small SQLite store with the uplink's contract (job intake, cancel, outbox) on a real file.
 * NOTE: it replaces the agent store of src/store until that store's outbox is merged; the
 * uplink tests should then run against the real store.
 */
export class TestAgentStore {
  readonly db: Database.Database;

  readonly outbox: UplinkOutbox;

  /** Job ids the intake was called with, in call order, including rejected replays. */
  readonly intakeCalls: string[] = [];

  constructor(file: string) {
    this.db = new Database(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, event TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (key, value) VALUES ('acknowledged', 0);
    `);
    this.outbox = {
      read: (afterSeq, limit) => this.read(afterSeq, limit),
      acknowledge: (seq) => {
        this.db
          .prepare(`UPDATE meta SET value = MAX(value, ?) WHERE key = 'acknowledged'`)
          .run(seq);
      },
      acknowledgedSeq: () => this.acknowledgedSeq(),
    };
  }

  /** Stores a job once; a replay with other content is rejected as `JOB_INVALID`. */
  intake = async (job: Job): Promise<void> => {
    this.intakeCalls.push(job.id);
    const { receivedAt: _receivedAt, ...signed } = job;
    const body = JSON.stringify(signed);
    const existing = this.db.prepare('SELECT body FROM jobs WHERE id = ?').get(job.id) as
      | { body: string }
      | undefined;
    if (existing !== undefined && existing.body !== body) {
      throw new AgentError('JOB_INVALID', `Job ${job.id} was replayed with different content`);
    }

    this.db.prepare('INSERT OR IGNORE INTO jobs (id, body) VALUES (?, ?)').run(job.id, body);
  };

  cancel = async (jobId: string): Promise<void> => {
    const result = this.db.prepare('UPDATE jobs SET cancelled = 1 WHERE id = ?').run(jobId);
    if (result.changes === 0) {
      throw new AgentError('JOB_NOT_FOUND', `Job ${jobId} is not stored`);
    }
  };

  jobIds(): string[] {
    const rows = this.db.prepare('SELECT id FROM jobs ORDER BY id').all() as Array<{ id: string }>;
    return rows.map((row) => row.id);
  }

  isCancelled(jobId: string): boolean {
    const row = this.db.prepare('SELECT cancelled FROM jobs WHERE id = ?').get(jobId) as
      | { cancelled: number }
      | undefined;
    return row?.cancelled === 1;
  }

  appendRun(run: RunReport): number {
    return this.append({ kind: 'run', run });
  }

  appendVerdict(jobId: string, verdict: 'completed' | 'failed', decidedAt: number): number {
    return this.append({ kind: 'verdict', jobId, verdict, decidedAt });
  }

  acknowledgedSeq(): number {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'acknowledged'`).get() as {
      value: number;
    };
    return row.value;
  }

  close(): void {
    this.db.close();
  }

  private append(event: Omit<OutboxEvent, 'seq'> & Record<string, unknown>): number {
    const result = this.db
      .prepare('INSERT INTO outbox (event) VALUES (?)')
      .run(JSON.stringify(event));
    return Number(result.lastInsertRowid);
  }

  private read(afterSeq: number, limit: number): OutboxEvent[] {
    const rows = this.db
      .prepare('SELECT seq, event FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(afterSeq, limit) as Array<{ seq: number; event: string }>;
    return rows.map((row) => ({ ...(JSON.parse(row.event) as OutboxEvent), seq: row.seq }));
  }
}

/** Builds a run report with defaults for the fields a test does not care about. */
export function runReport(
  jobId: string,
  deviceId: string,
  overrides: Partial<RunReport> = {},
): RunReport {
  return {
    jobId,
    deviceId,
    state: 'succeeded',
    revision: 3,
    output: 'done',
    outputTruncated: false,
    outputBytes: 4,
    outputCaptured: true,
    startedAt: Date.parse('2026-01-01T00:00:00Z'),
    finishedAt: Date.parse('2026-01-01T00:00:01Z'),
    ...overrides,
  };
}
