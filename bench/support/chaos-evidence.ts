import Database from 'better-sqlite3';

import { Store } from '../../src/store/store.js';
import type {
  AgentView,
  ChaosEvidence,
  ControlPlaneJob,
  RecordedEvent,
  StoredJobRecord,
} from './chaos-checks.js';
import type { ChaosFleet } from './chaos-fleet.js';
import type { ScheduledJob } from './chaos-jobs.js';
import type { ChaosSite } from './chaos-site.js';

/**
 * Collects what the checks compare once the site has settled: the devices' run counts, the
 * agent's store, the control plane's progress and device results, and its recorded status
 * events. The agent is stopped first, because it locks its store while it runs.
 */
export async function gatherEvidence(
  site: ChaosSite,
  fleet: ChaosFleet,
  jobs: readonly ScheduledJob[],
): Promise<ChaosEvidence> {
  const counts = await fleet.counts();
  await site.stopAgent('SIGTERM');
  const agent = readAgentStore(site.storeFile, jobs);
  const controlPlane = new Map<string, ControlPlaneJob>();
  for (const job of jobs) {
    controlPlane.set(job.scriptId, await readControlPlaneJob(site, job.scriptId));
  }

  return {
    siteId: site.siteId,
    deviceIds: fleet.deviceIds,
    jobs,
    counts,
    agent,
    controlPlane,
    events: readRecordedEvents(site.controlPlane.databaseFile, site.siteId),
  };
}

function readAgentStore(file: string, jobs: readonly ScheduledJob[]): AgentView {
  const store = Store.open(file);
  try {
    const stored = new Map<string, StoredJobRecord>();
    for (const { scriptId } of jobs) {
      const job = store.jobs.get(scriptId);
      if (job !== undefined) {
        stored.set(scriptId, { job, runs: store.runs.list(scriptId) });
      }
    }

    return {
      jobs: stored,
      outboxDepth: store.outbox.depth(),
      outboxId: store.outbox.id,
      lastSeq: store.outbox.lastSeq(),
      acknowledgedSeq: store.outbox.acknowledgedSeq(),
    };
  } finally {
    store.close();
  }
}

async function readControlPlaneJob(site: ChaosSite, scriptId: string): Promise<ControlPlaneJob> {
  const base = `/scripts/scheduled/${scriptId}`;
  const progress = await site.api('GET', `${base}/progress`);
  const detail = await site.api('GET', `${base}/sites/${site.siteId}`);
  return {
    progress: progress.body as ControlPlaneJob['progress'],
    ...(detail.body as Pick<ControlPlaneJob, 'delivery' | 'devices'>),
  };
}

/** Reads the control plane's status events of the site; other readers may open its database. */
function readRecordedEvents(databaseFile: string, siteId: string): RecordedEvent[] {
  const db = new Database(databaseFile, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT outbox_id AS outboxId, script_id AS scriptId, seq, kind, device_id AS deviceId,
           revision
         FROM status_events WHERE site_id = ? ORDER BY outbox_id, seq`,
      )
      .all(siteId) as RecordedEvent[];
  } finally {
    db.close();
  }
}
