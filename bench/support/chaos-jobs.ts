import { sleep } from './chaos-program.js';
import type { SeededRandom } from './chaos-random.js';
import { chaosScript, type ScriptKind } from './chaos-script.js';
import type { ChaosSite } from './chaos-site.js';

/** One job of a chaos run, as planned from the seed before anything starts. */
export type PlannedJob = {
  /** 1-based; names the job's run counter on the devices. */
  number: number;
  kind: ScriptKind;
  /** Length of the `:delay` of a `long` script, in seconds. */
  delaySeconds: number;
  /** Launch time, in milliseconds after the start of the chaos period. */
  launchOffsetMs: number;
  /** Time from launch to expiry, in milliseconds. */
  expiryAfterLaunchMs: number;
  /**
   * True for a job launched with `POST .../launch` at `launchOffsetMs`: its `launch_at` is set
   * later than that, after the offer lead, so that the call comes before any offer.
   */
  launchNow: boolean;
  /** Whether agents capture `/export` before the script. */
  makeBackup: boolean;
  /** Time of its `DELETE`, in milliseconds after the start of the chaos period; none when absent. */
  cancelOffsetMs?: number;
};

/** A planned job once the Scripts API created it. */
export type ScheduledJob = PlannedJob & {
  scriptId: string;
  launchAt: number;
  expiresAt: number;
  /** The HTTP status each timed action (launch now, cancel) got from the control plane. */
  notes: string[];
};

/** Plans `count` jobs whose launches fall in the first 80 % of a period of `periodMs`. */
export function planJobs(count: number, periodMs: number, random: SeededRandom): PlannedJob[] {
  return Array.from({ length: count }, (_, index) => {
    const launchOffsetMs = random.integer(3_000, Math.max(4_000, Math.floor(periodMs * 0.8)));
    const job: PlannedJob = {
      number: index + 1,
      kind: random.weighted<ScriptKind>([
        ['quick', 55],
        ['long', 35],
        ['failing', 10],
      ]),
      delaySeconds: random.integer(2, 10),
      launchOffsetMs,
      expiryAfterLaunchMs: random.weighted([
        [random.integer(60_000, 240_000), 70],
        [random.integer(10_000, 30_000), 20],
        [random.integer(4_000, 8_000), 10],
      ]),
      launchNow: random.chance(0.15),
      makeBackup: random.chance(0.2),
    };
    if (random.chance(0.12)) {
      job.cancelOffsetMs = Math.max(1_000, launchOffsetMs + random.integer(-20_000, 15_000));
    }

    return job;
  });
}

/**
 * Creates and authorizes every planned job through the Scripts API, `startAt` being the start
 * of the chaos period in milliseconds since the epoch.
 */
export async function createJobs(
  site: ChaosSite,
  planned: readonly PlannedJob[],
  startAt: number,
  leadMs: number,
): Promise<ScheduledJob[]> {
  const jobs: ScheduledJob[] = [];
  for (const job of planned) {
    const launchAt = startAt + job.launchOffsetMs + (job.launchNow ? leadMs + 30_000 : 0);
    const expiresAt = launchAt + job.expiryAfterLaunchMs;
    const created = await site.api('POST', '/scripts/scheduled', {
      description: `chaos job ${job.number} (${job.kind})`,
      script: chaosScript(job.number, job.kind, job.delaySeconds),
      launch_at: new Date(launchAt).toISOString(),
      expires_at: new Date(expiresAt).toISOString(),
      sites: [site.siteId],
      make_backup: job.makeBackup,
    });
    if (created.status !== 201) {
      throw new Error(`creating chaos job ${job.number} returned ${created.status}`);
    }

    const scriptId = (created.body as { id: string }).id;
    const authorized = await site.api('POST', `/scripts/scheduled/${scriptId}/authorize`);
    if (authorized.status !== 200) {
      throw new Error(`authorizing chaos job ${job.number} returned ${authorized.status}`);
    }

    jobs.push({ ...job, scriptId, launchAt, expiresAt, notes: [] });
  }

  return jobs;
}

/** A timed action on one job: a launch now or a cancellation. */
type JobAction = { at: number; job: ScheduledJob; kind: 'launch' | 'cancel' };

/**
 * Performs the jobs' launches and cancellations at their planned times until every one is done
 * or `signal` aborts. A control plane that is restarting is retried for up to 20 seconds.
 */
export async function runJobTimeline(
  site: ChaosSite,
  jobs: readonly ScheduledJob[],
  startAt: number,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const actions: JobAction[] = [];
  for (const job of jobs) {
    if (job.launchNow) {
      actions.push({ at: startAt + job.launchOffsetMs, job, kind: 'launch' });
    }

    if (job.cancelOffsetMs !== undefined) {
      actions.push({ at: startAt + job.cancelOffsetMs, job, kind: 'cancel' });
    }
  }

  actions.sort((a, b) => a.at - b.at);
  for (const action of actions) {
    await sleep(action.at - Date.now());
    if (signal.aborted) {
      return;
    }

    const { job, kind } = action;
    const pathname = `/scripts/scheduled/${job.scriptId}${kind === 'launch' ? '/launch' : ''}`;
    const status = await callWithRetry(site, kind === 'launch' ? 'POST' : 'DELETE', pathname);
    job.notes.push(`${kind} ${status}`);
    log(`job ${job.number}: ${kind} returned ${status}`);
  }
}

/** Calls the Scripts API, retrying while the control plane does not respond; returns the status. */
async function callWithRetry(
  site: ChaosSite,
  method: string,
  pathname: string,
): Promise<number | string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return (await site.api(method, pathname)).status;
    } catch (error) {
      if (Date.now() > deadline) {
        return `unreachable (${error instanceof Error ? error.message : String(error)})`;
      }

      await sleep(500);
    }
  }
}
