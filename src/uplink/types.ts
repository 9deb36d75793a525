import type { ErrorCode } from '../errors.js';
import type { Job } from '../jobs/types.js';
import type { OutboxEntry } from '../store/types.js';

/** The part of the agent's store the uplink reads and acknowledges. */
export type UplinkOutbox = {
  /** Returns up to `limit` events with a sequence number above `afterSeq`, in ascending order. */
  read(afterSeq: number, limit: number): OutboxEntry[] | Promise<OutboxEntry[]>;
  /** Marks every event up to and including `seq` acknowledged by the control plane. */
  acknowledge(seq: number): unknown;
  /** Highest acknowledged sequence number, or 0. */
  acknowledgedSeq(): number | Promise<number>;
  /**
   * Calls `listener` after events are appended; returns a function that unsubscribes. Without
   * it the owner calls `UplinkClient.notifyOutbox` after each append.
   */
  subscribe?(listener: () => void): () => void;
};

/**
 * Commits a verified job to the store. It resolves only once the job is durable; the uplink
 * then sends `job_accepted`. A replay with identical content resolves too, and a replay with
 * different content throws an AgentError whose code the uplink sends as the rejection.
 */
export type JobIntake = (job: Job) => Promise<void>;

/** Cancels a stored job's runs that have not finished; throws `JOB_NOT_FOUND` for unknown ids. */
export type JobCancel = (jobId: string) => Promise<void>;

/** Connection states of the uplink, for the status endpoint. */
export type UplinkState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'stopped';

/** A snapshot of the uplink for the status endpoint. Times are milliseconds since the epoch. */
export type UplinkStatus = {
  state: UplinkState;
  /** Last frame, ping or pong received from the control plane. */
  lastContactAt?: number;
  connectedSince?: number;
  nextAttemptAt?: number;
  /** Failed connection attempts since the last successful `welcome`. */
  failedAttempts: number;
  lastError?: { code: ErrorCode; message: string };
  /** Status events sent and not yet acknowledged. */
  unacknowledged: number;
  acknowledgedSeq: number;
};

/** What became of one job offer: stored, rejected for good, or left open after an error. */
export type OfferOutcome =
  | { jobId: string; result: 'accepted' }
  | { jobId: string | undefined; result: 'rejected' | 'error'; code: ErrorCode };

/**
 * Callbacks on uplink events, for metrics. Each is optional, runs synchronously and must not
 * throw.
 */
export type UplinkObserver = {
  /** A job offer was handled. */
  offer?(outcome: OfferOutcome): void;
  /** The link closed or an attempt failed, and a new attempt is scheduled after `delayMs`. */
  reconnecting?(delayMs: number): void;
};
