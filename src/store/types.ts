import type { ErrorCode } from '../errors.js';
import type { Job, JobVerdict, Run, RunState } from '../jobs/types.js';

/** A job with what the agent has recorded about it since intake. */
export type StoredJob = Job & {
  /** When the scheduler created the job's runs; undefined before launch. */
  launchedAt?: number;
  /** When a cancellation was requested. */
  cancelRequestedAt?: number;
  verdict: JobVerdict;
  /** When the verdict became final. */
  finishedAt?: number;
};

/** Result of `acceptJob`: stored now, or already stored with identical content. */
export type AcceptOutcome = 'accepted' | 'duplicate';

/** The final state of a run and what it produced, written by `finishRun`. */
export type RunOutcome = {
  state: Exclude<RunState, 'pending' | 'running'>;
  reasonCode?: ErrorCode;
  reasonMessage?: string;
  errorLine?: number;
  errorColumn?: number;
  output?: string;
  outputTruncated?: boolean;
  outputBytes?: number;
  outputCaptured?: boolean;
  /** Milliseconds since the epoch. */
  finishedAt: number;
};

/** The reason given to every pending run that `settlePendingRuns` ends without starting it. */
export type SettleReason = {
  state: 'failed' | 'cancelled' | 'skipped';
  reasonCode: ErrorCode;
  reasonMessage: string;
};

/**
 * One change the control plane must see, written in the same transaction as the change.
 * Run events carry the run as it was after the change, except that a final run's output is
 * read from the run itself when the event is read, so large outputs are stored once.
 */
export type OutboxEvent =
  | { type: 'job.accepted'; jobId: string; receivedAt: number; targets: readonly string[] | 'all' }
  | { type: 'job.launched'; jobId: string; launchedAt: number; deviceIds: readonly string[] }
  | { type: 'run.updated'; jobId: string; run: Run }
  | {
      type: 'job.verdict';
      jobId: string;
      verdict: Exclude<JobVerdict, 'pending'>;
      decidedAt: number;
    };

export type OutboxEntry = {
  /** Position in the outbox; increases by at least one per event and is never reused. */
  seq: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  event: OutboxEvent;
};

/** Summary of one retention pass: jobs deleted and the database size afterwards. */
export type RetentionReport = {
  deletedJobs: number;
  /** Pages in use times the page size, after the pass. */
  usedBytes: number;
  /** True when the used size is still above the limit because everything left must be kept. */
  overLimit: boolean;
};
