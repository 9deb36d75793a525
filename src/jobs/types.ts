import type { ErrorCode } from '../errors.js';

/**
 * A job: one scheduled script for this site, as accepted from the control plane. The agent
 * stores it before acknowledging the offer and never changes the signed fields afterwards.
 */
export type Job = {
  /** The control plane's id of the scheduled script (a UUID). */
  id: string;
  siteId: string;
  description: string;
  /** RouterOS script text, exactly as signed. */
  script: string;
  /** Device ids to run on, or `all` for every device of the inventory at launch time. */
  targets: readonly string[] | 'all';
  /** Milliseconds since the epoch (UTC) at which runs may start. */
  launchAt: number;
  /** Milliseconds since the epoch after which a run that has not started fails as `EXPIRED`. */
  expiresAt: number;
  /** Capture `/export` of each device before running the script. */
  makeBackup: boolean;
  limits: JobLimits;
  /** Who approved the job and the control plane's signature over the signed fields. */
  authorization: JobAuthorization;
  /** Milliseconds since the epoch at which this agent stored the job. */
  receivedAt: number;
};

export type JobLimits = {
  /** Runs of this job at once on this site; the global limit still applies. */
  maxConcurrency?: number;
  /** After this many failed runs, the job's runs that have not started are `skipped`. */
  maxErrors?: number;
  /** Upper bound on one run, in milliseconds; the agent's default applies when absent. */
  runTimeoutMs?: number;
};

export type JobAuthorization = {
  /** Subject that approved the job on the control plane. */
  authorizedBy: string;
  /** Milliseconds since the epoch. */
  authorizedAt: number;
  /** Id of the control plane's signing key. */
  keyId: string;
  /** Base64 Ed25519 signature over the canonical form of the signed fields. */
  signature: string;
};

/** States of a run (one job on one device). Only `pending` and `running` are not final. */
export type RunState =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'skipped'
  | 'interrupted';

export const FINAL_RUN_STATES: ReadonlySet<RunState> = new Set([
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
  'interrupted',
]);

/** The site-level view of a job, as the control plane's progress endpoint reports it. */
export type JobVerdict = 'pending' | 'completed' | 'failed';

/**
 * Decides a job's verdict from its runs: `pending` while any run is not final, `completed`
 * when every run succeeded, `failed` when every run is final and at least one did not succeed.
 * A job with no runs is `completed` once it has been launched, because there was nothing to do.
 */
export function decideVerdict(states: Iterable<RunState>): JobVerdict {
  let failed = false;

  for (const state of states) {
    if (!FINAL_RUN_STATES.has(state)) {
      return 'pending';
    }

    if (state !== 'succeeded') {
      failed = true;
    }
  }

  return failed ? 'failed' : 'completed';
}

/** One run as stored and reported. */
export type Run = {
  jobId: string;
  deviceId: string;
  state: RunState;
  /** Why a run did not succeed: the device error code, or EXPIRED, SKIPPED, INTERRUPTED, ... */
  reasonCode?: ErrorCode;
  reasonMessage?: string;
  /** 1-based position the device blamed, where it gave one. */
  errorLine?: number;
  errorColumn?: number;
  /** Stored output, possibly head and tail of a longer output. */
  output?: string;
  /** True when `output` holds only the head and tail of the device's output. */
  outputTruncated: boolean;
  /** Size of the device's whole output in bytes (UTF-8), before any truncation. */
  outputBytes: number;
  /** False when the transport could not capture the output (RouterOS 6 over the API). */
  outputCaptured: boolean;
  /** Milliseconds since the epoch. */
  startedAt?: number;
  finishedAt?: number;
  /** Incremented on every state change; lets the control plane drop stale updates. */
  revision: number;
};
