import type { ErrorCode } from '../errors.js';
import { isErrorCode } from '../errors.js';
import type { Job, JobVerdict, RunState } from '../jobs/types.js';
import { readQuery, type StoreContext, writeTransaction } from './context.js';
import type { Store } from './store.js';

/** A job as the status endpoint lists it: no script text, run counts by state. */
export type JobSummary = {
  id: string;
  description: string;
  targets: Job['targets'];
  launchAt: number;
  expiresAt: number;
  receivedAt: number;
  launchedAt?: number;
  cancelRequestedAt?: number;
  finishedAt?: number;
  verdict: JobVerdict;
  authorizedBy: string;
  makeBackup: boolean;
  /** Size of the script in bytes of UTF-8; the text itself is not shown. */
  scriptBytes: number;
  runs: Partial<Record<RunState, number>>;
};

/** The newest run a device took part in, without its output. */
export type DeviceLastRun = {
  deviceId: string;
  jobId: string;
  state: RunState;
  reasonCode?: ErrorCode;
  startedAt?: number;
  finishedAt?: number;
};

type JobRow = {
  id: string;
  content: string;
  received_at: number;
  launched_at: number | null;
  cancel_requested_at: number | null;
  verdict: JobVerdict;
  finished_at: number | null;
};

type LastRunRow = {
  device_id: string;
  job_id: string;
  state: RunState;
  reason_code: string | null;
  started_at: number | null;
  finished_at: number | null;
};

/**
 * Read-only views of the store for the local status endpoint and the metrics, plus the
 * readiness probe's write. Queries read outputs only where a caller asks for one job.
 */
export class StatusQueries {
  private readonly context: StoreContext;

  private readonly statements: ReturnType<typeof prepareStatusStatements>;

  constructor(store: Store) {
    this.context = { db: store.database, file: store.file };
    this.statements = prepareStatusStatements(this.context);
  }

  /** Number of runs in each state, over every stored job. */
  runCounts(): Partial<Record<RunState, number>> {
    return readQuery(this.context, 'counting runs', () =>
      Object.fromEntries(this.statements.runCounts.all().map((row) => [row.state, row.count])),
    );
  }

  /** Returns the newest `limit` jobs by intake time, newest first. */
  recentJobs(limit: number): JobSummary[] {
    return readQuery(this.context, 'listing jobs', () => {
      const jobs = this.statements.recentJobs.all(limit);
      return jobs.map((row) => this.summarize(row));
    });
  }

  /** Returns one job's summary, or undefined. */
  job(jobId: string): JobSummary | undefined {
    return readQuery(this.context, `reading job ${jobId}`, () => {
      const row = this.statements.job.get(jobId);
      return row === undefined ? undefined : this.summarize(row);
    });
  }

  /** Returns the newest run of each device that has started or finished one, by device id. */
  lastRuns(): Map<string, DeviceLastRun> {
    return readQuery(this.context, 'reading the last run of each device', () => {
      const runs = new Map<string, DeviceLastRun>();
      for (const row of this.statements.lastRuns.all()) {
        runs.set(row.device_id, lastRunFromRow(row));
      }

      return runs;
    });
  }

  /**
   * Start time of each device's newest finished run that contacted the device, by device id.
   * Runs that ended without starting (cancelled, skipped, expired) never contacted it.
   */
  lastContacts(): Map<string, number> {
    return readQuery(this.context, 'reading the last contact of each device', () => {
      const rows = this.statements.lastContacts.all();
      return new Map(rows.map((row) => [row.device_id, row.started_at]));
    });
  }

  /**
   * Writes the probe time into the settings table, which proves that the database file and its
   * WAL can still be written. Throws a STORE_* error when they cannot.
   */
  probeWrite(now: number): void {
    writeTransaction(this.context, 'writing the readiness probe', () => {
      this.statements.probe.run(now);
    });
  }

  private summarize(row: JobRow): JobSummary {
    const job = JSON.parse(row.content) as Job;
    const runs = Object.fromEntries(
      this.statements.jobRunCounts.all(row.id).map((count) => [count.state, count.count]),
    );
    const summary: JobSummary = {
      id: job.id,
      description: job.description,
      targets: job.targets,
      launchAt: job.launchAt,
      expiresAt: job.expiresAt,
      receivedAt: row.received_at,
      verdict: row.verdict,
      authorizedBy: job.authorization.authorizedBy,
      makeBackup: job.makeBackup,
      scriptBytes: Buffer.byteLength(job.script, 'utf8'),
      runs,
    };

    if (row.launched_at !== null) {
      summary.launchedAt = row.launched_at;
    }

    if (row.cancel_requested_at !== null) {
      summary.cancelRequestedAt = row.cancel_requested_at;
    }

    if (row.finished_at !== null) {
      summary.finishedAt = row.finished_at;
    }

    return summary;
  }
}

function lastRunFromRow(row: LastRunRow): DeviceLastRun {
  const run: DeviceLastRun = { deviceId: row.device_id, jobId: row.job_id, state: row.state };
  if (row.reason_code !== null && isErrorCode(row.reason_code)) {
    run.reasonCode = row.reason_code;
  }

  if (row.started_at !== null) {
    run.startedAt = row.started_at;
  }

  if (row.finished_at !== null) {
    run.finishedAt = row.finished_at;
  }

  return run;
}

function prepareStatusStatements({ db }: StoreContext) {
  const jobColumns =
    'id, content, received_at, launched_at, cancel_requested_at, verdict, finished_at';

  return {
    runCounts: db.prepare<[], { state: RunState; count: number }>(
      'SELECT state, count(*) AS count FROM runs GROUP BY state',
    ),
    jobRunCounts: db.prepare<[string], { state: RunState; count: number }>(
      'SELECT state, count(*) AS count FROM runs WHERE job_id = ? GROUP BY state',
    ),
    recentJobs: db.prepare<[number], JobRow>(
      `SELECT ${jobColumns} FROM jobs ORDER BY received_at DESC, id LIMIT ?`,
    ),
    job: db.prepare<[string], JobRow>(`SELECT ${jobColumns} FROM jobs WHERE id = ?`),
    // A pending run has not contacted its device, so it is left out.
    lastRuns: db.prepare<[], LastRunRow>(`
      SELECT device_id, job_id, state, reason_code, started_at, finished_at FROM (
        SELECT r.*, row_number() OVER (
          PARTITION BY device_id ORDER BY coalesce(finished_at, started_at) DESC, job_id
        ) AS position
        FROM runs r WHERE state != 'pending'
      ) WHERE position = 1`),
    lastContacts: db.prepare<[], { device_id: string; started_at: number }>(
      `SELECT device_id, max(started_at) AS started_at FROM runs
       WHERE started_at IS NOT NULL AND state != 'running' GROUP BY device_id`,
    ),
    probe: db.prepare<[number]>(
      "INSERT INTO settings (key, value) VALUES ('status_probe_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
  };
}
