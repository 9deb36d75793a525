import { createHash } from 'node:crypto';

import { AgentError } from '../errors.js';
import type { Job } from '../jobs/types.js';
import { readQuery, type StoreContext, writeTransaction } from './context.js';
import type { Outbox } from './outbox.js';
import { type JobRow, jobFromRow } from './rows.js';
import type { Runs } from './runs.js';
import type { AcceptOutcome, StoredJob } from './types.js';

/** Result of `cancel`: runs cancelled before they started, and runs still running. */
export type CancelOutcome = { cancelledDeviceIds: string[]; runningDeviceIds: string[] };

/**
 * Jobs from intake to launch. Runs of a job with named targets are created at intake. Runs of
 * an `all` job are created at launch from the inventory of that moment. At launch, a run whose
 * device is not in the inventory fails with DEVICE_NOT_FOUND.
 */
export class Jobs {
  private readonly context: StoreContext;

  private readonly outbox: Outbox;

  private readonly runs: Runs;

  private readonly statements: ReturnType<typeof prepareJobStatements>;

  constructor(context: StoreContext, outbox: Outbox, runs: Runs) {
    this.context = context;
    this.outbox = outbox;
    this.runs = runs;
    this.statements = prepareJobStatements(context);
  }

  /**
   * Stores a verified job, its pending runs and a `job.accepted` event in one transaction.
   * Returns `duplicate` for a job already accepted with identical content, including one that
   * retention has deleted since. Throws JOB_INVALID for a known id with different content,
   * and STORE_FULL when the disk is full, storing nothing.
   */
  accept(job: Job): AcceptOutcome {
    const digest = jobDigest(job);

    return writeTransaction(this.context, `accepting job ${job.id}`, () => {
      const known = this.statements.digest.get(job.id) ?? this.statements.tombstone.get(job.id);
      if (known !== undefined) {
        if (known !== digest) {
          throw new AgentError(
            'JOB_INVALID',
            `job ${job.id} was already accepted with different content; a changed job needs a new id`,
            { details: { jobId: job.id } },
          );
        }

        return 'duplicate';
      }

      this.statements.insert.run({
        id: job.id,
        site_id: job.siteId,
        content: JSON.stringify(job),
        content_digest: digest,
        launch_at: job.launchAt,
        expires_at: job.expiresAt,
        received_at: job.receivedAt,
      });

      if (job.targets !== 'all') {
        for (const deviceId of job.targets) {
          this.runs.insertPending(job.id, deviceId);
        }
      }

      const event = {
        type: 'job.accepted',
        jobId: job.id,
        receivedAt: job.receivedAt,
        targets: job.targets,
      } as const;
      this.outbox.append(event, job.receivedAt);
      return 'accepted';
    });
  }

  /** Returns a stored job, or undefined. */
  get(jobId: string): StoredJob | undefined {
    return readQuery(this.context, `reading job ${jobId}`, () => {
      const row = this.statements.get.get(jobId);
      return row === undefined ? undefined : jobFromRow(row);
    });
  }

  /** Jobs whose verdict is still `pending`, by launch time. */
  listUnfinished(): StoredJob[] {
    return readQuery(this.context, 'listing unfinished jobs', () =>
      this.statements.unfinished.all().map(jobFromRow),
    );
  }

  /**
   * Launches a job: creates the runs of an `all` job from `inventory`, fails runs of devices
   * missing from it, and appends `job.launched`. Launching twice changes nothing. Returns the
   * device ids still pending afterwards.
   */
  launch(jobId: string, inventory: readonly string[], now: number): string[] {
    return writeTransaction(this.context, `launching job ${jobId}`, () => {
      const job = this.require(jobId);
      if (job.launchedAt !== undefined) {
        return this.runs.pendingDeviceIds(jobId);
      }

      this.createRuns(job, inventory, now);

      const known = new Set(inventory);
      const missing = this.runs.pendingDeviceIds(jobId).filter((deviceId) => !known.has(deviceId));
      if (missing.length > 0) {
        this.runs.settlePending(
          jobId,
          {
            state: 'failed',
            reasonCode: 'DEVICE_NOT_FOUND',
            reasonMessage: 'the device is not in the agent inventory; add it to the configuration',
          },
          now,
          missing,
        );
      }

      this.runs.refreshVerdict(jobId, now);
      return this.runs.pendingDeviceIds(jobId);
    });
  }

  /**
   * Cancels a job: every pending run becomes `cancelled` in one transaction. A job not yet
   * launched is launched into cancellation, so an `all` job lists the devices it would have run
   * on. Running runs are returned for the runner to abort. A finished job is left as it is.
   * Throws JOB_NOT_FOUND.
   */
  cancel(jobId: string, inventory: readonly string[], now: number): CancelOutcome {
    return writeTransaction(this.context, `cancelling job ${jobId}`, () => {
      const job = this.require(jobId);
      if (job.verdict !== 'pending') {
        return { cancelledDeviceIds: [], runningDeviceIds: [] };
      }

      this.statements.cancelRequested.run(now, jobId);

      if (job.launchedAt === undefined) {
        this.createRuns(job, inventory, now);
      }

      const cancelledDeviceIds = this.runs.settlePending(
        jobId,
        {
          state: 'cancelled',
          reasonCode: 'CANCELLED',
          reasonMessage: 'the job was cancelled before the run started',
        },
        now,
      );
      const runningDeviceIds = this.runs
        .list(jobId, false)
        .filter((run) => run.state === 'running')
        .map((run) => run.deviceId);

      return { cancelledDeviceIds, runningDeviceIds };
    });
  }

  private createRuns(job: StoredJob, inventory: readonly string[], now: number): void {
    if (job.targets === 'all') {
      for (const deviceId of inventory) {
        this.runs.insertPending(job.id, deviceId);
      }
    }

    this.statements.launched.run(now, job.id);
    const deviceIds = this.runs.list(job.id, false).map((run) => run.deviceId);
    this.outbox.append({ type: 'job.launched', jobId: job.id, launchedAt: now, deviceIds }, now);
  }

  private require(jobId: string): StoredJob {
    const row = this.statements.get.get(jobId);
    if (row === undefined) {
      throw new AgentError('JOB_NOT_FOUND', `job ${jobId} is not stored on this agent`, {
        details: { jobId },
      });
    }

    return jobFromRow(row);
  }
}

function prepareJobStatements({ db }: StoreContext) {
  return {
    get: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?'),
    digest: db.prepare<[string], string>('SELECT content_digest FROM jobs WHERE id = ?').pluck(),
    tombstone: db
      .prepare<[string], string>('SELECT content_digest FROM job_tombstones WHERE id = ?')
      .pluck(),
    unfinished: db.prepare<[], JobRow>(
      "SELECT * FROM jobs WHERE verdict = 'pending' ORDER BY launch_at, received_at",
    ),
    insert: db.prepare<
      [
        {
          id: string;
          site_id: string;
          content: string;
          content_digest: string;
          launch_at: number;
          expires_at: number;
          received_at: number;
        },
      ]
    >(
      `INSERT INTO jobs (id, site_id, content, content_digest, launch_at, expires_at, received_at)
       VALUES (@id, @site_id, @content, @content_digest, @launch_at, @expires_at, @received_at)`,
    ),
    launched: db.prepare<[number, string]>('UPDATE jobs SET launched_at = ? WHERE id = ?'),
    cancelRequested: db.prepare<[number, string]>(
      'UPDATE jobs SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE id = ?',
    ),
  };
}

/**
 * Returns the SHA-256 of the job's content without `receivedAt`, which differs between two
 * deliveries of the same job. Keys are sorted so the digest does not depend on key order.
 */
export function jobDigest(job: Job): string {
  const { receivedAt: _receivedAt, ...signed } = job;
  return createHash('sha256').update(canonicalJson(signed)).digest('hex');
}

/** Orders keys by UTF-16 code units, which unlike `localeCompare` never depends on the locale. */
function compareKeys(a: string, b: string): number {
  if (a === b) {
    return 0;
  }

  return a < b ? -1 : 1;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }

  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
    return `{${entries.join(',')}}`;
  }

  return JSON.stringify(value);
}
