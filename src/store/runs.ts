import { decideVerdict, type JobVerdict, type Run, type RunState } from '../jobs/types.js';
import { readQuery, type StoreContext, writeTransaction } from './context.js';
import type { Outbox } from './outbox.js';
import { type RunRow, runFromRow } from './rows.js';
import type { RunOutcome, SettleReason } from './types.js';

/** The columns `finishRun` and `settlePending` write. */
type FinishParameters = Omit<RunRow, 'started_at' | 'revision' | 'finished_at'> & {
  finished_at: number;
};

type VerdictRow = { launched_at: number | null; verdict: JobVerdict };

/**
 * Run state changes. Each change increments the run's revision, appends a `run.updated` event
 * and, when the job's verdict changes with it, updates the job and appends a `job.verdict`
 * event, all in one transaction.
 */
export class Runs {
  private readonly context: StoreContext;

  private readonly outbox: Outbox;

  private readonly statements: ReturnType<typeof prepareRunStatements>;

  constructor(context: StoreContext, outbox: Outbox) {
    this.context = context;
    this.outbox = outbox;
    this.statements = prepareRunStatements(context);
  }

  /** Returns one run with its output, or undefined. */
  get(jobId: string, deviceId: string): Run | undefined {
    return readQuery(this.context, 'reading a run', () => {
      const row = this.statements.get.get(jobId, deviceId);
      return row === undefined ? undefined : runFromRow(row);
    });
  }

  /** Returns the runs of a job in device id order, with outputs unless `withOutput` is false. */
  list(jobId: string, withOutput = true): Run[] {
    return readQuery(this.context, 'listing runs', () =>
      this.statements.list.all(jobId).map((row) => runFromRow(row, withOutput)),
    );
  }

  /** Device ids of the job's runs that are still `pending`. */
  pendingDeviceIds(jobId: string): string[] {
    return readQuery(this.context, 'listing pending runs', () =>
      this.statements.pendingIds.all(jobId),
    );
  }

  /** Number of the job's runs that ended `failed` or `timed_out`, which `maxErrors` counts. */
  failedCount(jobId: string): number {
    return readQuery(
      this.context,
      'counting failed runs',
      () => this.statements.failedCount.get(jobId) ?? 0,
    );
  }

  /** Inserts a pending run; call inside the transaction that creates the job's runs. */
  insertPending(jobId: string, deviceId: string): boolean {
    return this.statements.insert.run(jobId, deviceId).changes === 1;
  }

  /**
   * Moves a pending run to `running`. Returns false when the run is no longer pending, for
   * example because it was cancelled or expired while queued. The caller must not run it then.
   */
  start(jobId: string, deviceId: string, now: number): boolean {
    return writeTransaction(this.context, `starting run ${jobId}/${deviceId}`, () => {
      const row = this.statements.start.get(now, jobId, deviceId);
      if (row === undefined) {
        return false;
      }

      this.appendEventOf(row, now);
      return true;
    });
  }

  /**
   * Records the final state of a running run. Returns the run, or undefined when it was not
   * running, which happens only when a restart already marked it `interrupted`.
   */
  finish(jobId: string, deviceId: string, outcome: RunOutcome): Run | undefined {
    return writeTransaction(this.context, `recording run ${jobId}/${deviceId}`, () => {
      const parameters = finishParameters(jobId, deviceId, outcome);
      const row = this.statements.finishReturning.get(parameters);
      if (row === undefined) {
        return undefined;
      }

      const run = this.appendEventOf(row, outcome.finishedAt);
      this.refreshVerdict(jobId, outcome.finishedAt);
      return run;
    });
  }

  /**
   * Ends pending runs of a job without starting them: expired, skipped or cancelled. Limits the
   * change to `deviceIds` when given. Returns the device ids of the runs it changed.
   */
  settlePending(
    jobId: string,
    reason: SettleReason,
    now: number,
    deviceIds?: readonly string[],
  ): string[] {
    return writeTransaction(this.context, `settling pending runs of job ${jobId}`, () => {
      const pending = deviceIds ?? this.statements.pendingIds.all(jobId);
      const settled: string[] = [];

      for (const deviceId of pending) {
        const parameters = finishParameters(jobId, deviceId, { ...reason, finishedAt: now });
        if (this.statements.settle.run(parameters).changes === 1) {
          this.appendRunEvent(jobId, deviceId, now);
          settled.push(deviceId);
        }
      }

      this.refreshVerdict(jobId, now);
      return settled;
    });
  }

  /**
   * Marks every `running` run `interrupted`, as found after a crash or power loss. Such a run
   * may or may not have changed the device, so it is never started again automatically.
   */
  interruptRunning(now: number): Run[] {
    return writeTransaction(this.context, 'marking interrupted runs', () => {
      const interrupted: Run[] = [];

      for (const row of this.statements.running.all()) {
        this.statements.finish.run(
          finishParameters(row.job_id, row.device_id, {
            state: 'interrupted',
            reasonCode: 'INTERRUPTED',
            reasonMessage:
              'the agent stopped while the script was running; check the device, because the script may have run in part or in full',
            finishedAt: now,
          }),
        );
        interrupted.push(this.appendRunEvent(row.job_id, row.device_id, now));
        this.refreshVerdict(row.job_id, now);
      }

      return interrupted;
    });
  }

  /**
   * Recomputes the job's verdict from its runs with `decideVerdict` and records a change. A job
   * that has not been launched, or that has a run still pending or running, is `pending`; only
   * then are all its run states read.
   */
  refreshVerdict(jobId: string, now: number): JobVerdict | undefined {
    const job = this.statements.verdict.get(jobId);
    if (job === undefined) {
      return undefined;
    }

    const verdict =
      job.launched_at === null || this.statements.unfinished.get(jobId) !== undefined
        ? 'pending'
        : decideVerdict(this.statements.states.all(jobId));
    // Runs never leave a final state, so a verdict never returns to pending once decided.
    if (verdict !== job.verdict && verdict !== 'pending') {
      this.statements.setVerdict.run(verdict, now, jobId);
      this.outbox.append({ type: 'job.verdict', jobId, verdict, decidedAt: now }, now);
    }

    return verdict;
  }

  private appendRunEvent(jobId: string, deviceId: string, now: number): Run {
    const row = this.statements.get.get(jobId, deviceId);
    if (row === undefined) {
      throw new Error(`run ${jobId}/${deviceId} vanished inside its own transaction`);
    }

    return this.appendEventOf(row, now);
  }

  /** Appends the `run.updated` event of a run row read or returned after its change. */
  private appendEventOf(row: RunRow, now: number): Run {
    const run = runFromRow(row, false);
    this.outbox.append({ type: 'run.updated', jobId: row.job_id, run }, now);
    return runFromRow(row);
  }
}

function prepareRunStatements({ db }: StoreContext) {
  const finishColumns = `
    state = @state, reason_code = @reason_code, reason_message = @reason_message,
    error_line = @error_line, error_column = @error_column, output = @output,
    output_truncated = @output_truncated, output_bytes = @output_bytes,
    output_captured = @output_captured, finished_at = @finished_at, revision = revision + 1`;

  return {
    get: db.prepare<[string, string], RunRow>(
      'SELECT * FROM runs WHERE job_id = ? AND device_id = ?',
    ),
    list: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE job_id = ? ORDER BY device_id'),
    pendingIds: db
      .prepare<[string], string>(
        "SELECT device_id FROM runs WHERE job_id = ? AND state = 'pending' ORDER BY device_id",
      )
      .pluck(),
    running: db.prepare<[], RunRow>("SELECT * FROM runs WHERE state = 'running'"),
    states: db
      .prepare<[string], RunState>('SELECT DISTINCT state FROM runs WHERE job_id = ?')
      .pluck(),
    unfinished: db
      .prepare<[string], number>(
        "SELECT 1 FROM runs INDEXED BY runs_job_state WHERE job_id = ? AND state IN ('pending', 'running') LIMIT 1",
      )
      .pluck(),
    failedCount: db
      .prepare<[string], number>(
        "SELECT count(*) FROM runs WHERE job_id = ? AND state IN ('failed', 'timed_out')",
      )
      .pluck(),
    insert: db.prepare<[string, string]>(
      "INSERT OR IGNORE INTO runs (job_id, device_id, state, revision) VALUES (?, ?, 'pending', 1)",
    ),
    // RETURNING gives the changed row to the outbox event without reading it again.
    start: db.prepare<[number, string, string], RunRow>(
      "UPDATE runs SET state = 'running', started_at = ?, revision = revision + 1 WHERE job_id = ? AND device_id = ? AND state = 'pending' RETURNING *",
    ),
    finish: db.prepare<[FinishParameters]>(
      `UPDATE runs SET ${finishColumns} WHERE job_id = @job_id AND device_id = @device_id AND state = 'running'`,
    ),
    finishReturning: db.prepare<[FinishParameters], RunRow>(
      `UPDATE runs SET ${finishColumns} WHERE job_id = @job_id AND device_id = @device_id AND state = 'running' RETURNING *`,
    ),
    settle: db.prepare<[FinishParameters]>(
      `UPDATE runs SET ${finishColumns} WHERE job_id = @job_id AND device_id = @device_id AND state = 'pending'`,
    ),
    verdict: db.prepare<[string], VerdictRow>('SELECT launched_at, verdict FROM jobs WHERE id = ?'),
    setVerdict: db.prepare<[JobVerdict, number, string]>(
      'UPDATE jobs SET verdict = ?, finished_at = ? WHERE id = ?',
    ),
  };
}

function finishParameters(jobId: string, deviceId: string, outcome: RunOutcome): FinishParameters {
  return {
    job_id: jobId,
    device_id: deviceId,
    state: outcome.state,
    reason_code: outcome.reasonCode ?? null,
    reason_message: outcome.reasonMessage ?? null,
    error_line: outcome.errorLine ?? null,
    error_column: outcome.errorColumn ?? null,
    output: outcome.output ?? null,
    output_truncated: outcome.outputTruncated === true ? 1 : 0,
    output_bytes: outcome.outputBytes ?? 0,
    output_captured: outcome.outputCaptured === false ? 0 : 1,
    finished_at: outcome.finishedAt,
  };
}
