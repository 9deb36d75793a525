import { isErrorCode } from '../errors.js';
import type { Job, JobVerdict, Run, RunState } from '../jobs/types.js';
import type { StoredJob } from './types.js';

/** A `runs` row as better-sqlite3 returns it. */
export type RunRow = {
  job_id: string;
  device_id: string;
  state: RunState;
  reason_code: string | null;
  reason_message: string | null;
  error_line: number | null;
  error_column: number | null;
  output: string | null;
  output_truncated: number;
  output_bytes: number;
  output_captured: number;
  started_at: number | null;
  finished_at: number | null;
  revision: number;
};

/** A `jobs` row as better-sqlite3 returns it. */
export type JobRow = {
  id: string;
  content: string;
  content_digest: string;
  launched_at: number | null;
  cancel_requested_at: number | null;
  verdict: JobVerdict;
  finished_at: number | null;
};

/** Converts a run row, leaving out `output` unless `withOutput` is set. */
export function runFromRow(row: RunRow, withOutput = true): Run {
  const run: Run = {
    jobId: row.job_id,
    deviceId: row.device_id,
    state: row.state,
    outputTruncated: row.output_truncated === 1,
    outputBytes: row.output_bytes,
    outputCaptured: row.output_captured === 1,
    revision: row.revision,
  };

  if (row.reason_code !== null && isErrorCode(row.reason_code)) {
    run.reasonCode = row.reason_code;
  }

  if (row.reason_message !== null) {
    run.reasonMessage = row.reason_message;
  }

  if (row.error_line !== null) {
    run.errorLine = row.error_line;
  }

  if (row.error_column !== null) {
    run.errorColumn = row.error_column;
  }

  if (withOutput && row.output !== null) {
    run.output = row.output;
  }

  if (row.started_at !== null) {
    run.startedAt = row.started_at;
  }

  if (row.finished_at !== null) {
    run.finishedAt = row.finished_at;
  }

  return run;
}

export function jobFromRow(row: JobRow): StoredJob {
  const job: StoredJob = { ...(JSON.parse(row.content) as Job), verdict: row.verdict };

  if (row.launched_at !== null) {
    job.launchedAt = row.launched_at;
  }

  if (row.cancel_requested_at !== null) {
    job.cancelRequestedAt = row.cancel_requested_at;
  }

  if (row.finished_at !== null) {
    job.finishedAt = row.finished_at;
  }

  return job;
}
