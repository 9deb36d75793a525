/**
 * Outbox replay: after an outage, the agent sends the status events it buffered to the
 * reference control plane (a process of its own) over a loopback WebSocket, through the real
 * uplink client and the real store outbox. The time runs from the start of the connection to
 * the acknowledgement of the last event. Afterwards the control plane's database is checked
 * for every event, recorded exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { systemClock } from '../src/clock.js';
import { createSilentLogger } from '../src/logging.js';
import { parsePublicKey } from '../src/protocol/signing.js';
import { Store } from '../src/store/store.js';
import type { OutboxEntry } from '../src/store/types.js';
import { UplinkClient } from '../src/uplink/client.js';
import type { UplinkOutbox } from '../src/uplink/types.js';
import { type ControlPlaneProcess, startControlPlane } from './support/control-plane-process.js';
import {
  type BenchMode,
  type BenchmarkReport,
  type Check,
  type Log,
  round,
} from './support/report.js';

export type OutboxReplayParams = {
  /** Events to buffer; rounded up to whole jobs of `devices` runs. */
  events: number;
  /** Devices per job; every run adds two events (started, finished). */
  devices: number;
};

export const SIZES: Record<BenchMode, OutboxReplayParams> = {
  full: { events: 100_000, devices: 1000 },
  quick: { events: 10_000, devices: 1000 },
};

export async function runOutboxReplay(
  params: OutboxReplayParams,
  log: Log,
): Promise<BenchmarkReport> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-replay-'));
  const controlPlane = await startControlPlane(directory);
  const store = Store.open(path.join(directory, 'agent.db'));

  try {
    const deviceIds = Array.from({ length: params.devices }, (_, index) => `router-${index + 1}`);
    const jobCount = Math.ceil(params.events / (2 * params.devices + 2));
    log(`outbox-replay: delivering ${jobCount} jobs to the agent`);
    const jobIds = await controlPlane.launchScripts(jobCount, ':put "replay"');
    await connectUntil(controlPlane, store, deviceIds, () => acceptedAll(store, jobIds));

    log('outbox-replay: buffering events while the link is down');
    const firstSeq = store.outbox.lastSeq() + 1;
    for (const jobId of jobIds) {
      bufferJobEvents(store, jobId, deviceIds);
    }

    const buffered = store.outbox.read(firstSeq - 1, Number.MAX_SAFE_INTEGER);
    const lastSeq = buffered.at(-1)?.seq ?? 0;
    log(`outbox-replay: replaying ${buffered.length} events`);
    const cpuBefore = process.cpuUsage();
    const controlPlaneCpuBefore = controlPlane.cpuMs();
    const started = performance.now();
    await connectUntil(
      controlPlane,
      store,
      deviceIds,
      () => store.outbox.acknowledgedSeq() >= lastSeq,
    );
    const replayMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const controlPlaneCpuMs = controlPlane.cpuMs() - controlPlaneCpuBefore;

    const checks = checkRecorded(controlPlane, buffered, jobIds, params.devices);
    checks.push({
      name: 'agent outbox empty',
      passed: store.outbox.depth() === 0,
      detail: `${store.outbox.depth()} events left`,
    });

    return {
      name: 'outbox-replay',
      title: 'Replay of buffered status events to the control plane',
      metrics: [
        { name: 'events replayed', value: buffered.length, unit: '' },
        {
          name: 'connect to last acknowledgement',
          value: round(replayMs, 0),
          unit: 'ms',
          target: { at: 'most', value: 5000 },
        },
        {
          name: 'events per second',
          value: round((buffered.length * 1000) / replayMs, 0),
          unit: '/s',
        },
      ],
      checks,
      details: {
        params,
        jobs: jobCount,
        agentCpuMs: round((cpu.user + cpu.system) / 1000, 0),
        controlPlaneCpuMs: round(controlPlaneCpuMs, 0),
      },
    };
  } finally {
    store.close();
    await controlPlane.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Connects an uplink client as the daemon builds it, waits until `done` returns true after an
 * acknowledgement or an accepted job, and stops the client.
 */
async function connectUntil(
  controlPlane: ControlPlaneProcess,
  store: Store,
  deviceIds: readonly string[],
  done: () => boolean,
): Promise<void> {
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const check = (): void => {
    if (done()) {
      finish();
    }
  };

  const outbox: UplinkOutbox = {
    read: (afterSeq, limit) => store.outbox.read(afterSeq, limit),
    acknowledge: (seq) => {
      const deleted = store.outbox.acknowledge(seq);
      check();
      return deleted;
    },
    acknowledgedSeq: () => store.outbox.acknowledgedSeq(),
    subscribe: (listener) => store.outbox.subscribe(listener),
  };
  const client = new UplinkClient({
    url: controlPlane.agentUrl,
    token: controlPlane.siteToken,
    siteId: controlPlane.siteId,
    agentVersion: 'benchmark',
    allowInsecure: true,
    devices: () => deviceIds.map((id) => ({ id, name: id, transport: 'api' as const })),
    keys: [parsePublicKey(controlPlane.publicKey)],
    intake: async (job) => store.acceptJob(job),
    cancel: async () => undefined,
    outbox,
    outboxId: store.outbox.id,
    clock: systemClock,
    logger: createSilentLogger(),
  });

  await client.start();
  check();
  await finished;
  await client.stop();
}

function acceptedAll(store: Store, jobIds: readonly string[]): boolean {
  return jobIds.every((id) => store.jobs.get(id) !== undefined) && store.outbox.depth() === 0;
}

/**
 * Launches a stored job on `deviceIds` and runs every run through started and succeeded, as
 * the runner would while the control plane is unreachable: one `job.launched`, two
 * `run.updated` per device and one `job.verdict` in the outbox. One transaction per job, to
 * fill the outbox quickly; the replay does not depend on how the events were written.
 */
function bufferJobEvents(store: Store, jobId: string, deviceIds: readonly string[]): void {
  const now = Date.now();
  store.database.transaction(() => {
    store.jobs.launch(jobId, deviceIds, now);
    for (const deviceId of deviceIds) {
      store.runs.start(jobId, deviceId, now);
      const output = `replay ${deviceId}\r\n`;
      store.runs.finish(jobId, deviceId, {
        state: 'succeeded',
        output,
        outputBytes: output.length,
        outputCaptured: true,
        finishedAt: now,
      });
    }
  })();
}

/** Checks the control plane's database: every replayed event recorded once, every result. */
function checkRecorded(
  controlPlane: ControlPlaneProcess,
  buffered: readonly OutboxEntry[],
  jobIds: readonly string[],
  devices: number,
): Check[] {
  const db = new Database(controlPlane.databaseFile, { readonly: true });
  try {
    const first = buffered[0]?.seq ?? 0;
    const last = buffered.at(-1)?.seq ?? 0;
    const recorded = db
      .prepare(
        'SELECT seq FROM status_events WHERE site_id = ? AND seq BETWEEN ? AND ? ORDER BY seq',
      )
      .pluck()
      .all(controlPlane.siteId, first, last) as number[];
    const expected = buffered.map((entry) => entry.seq);
    const missing = expected.filter((seq, index) => recorded[index] !== seq).length;
    const results = db
      .prepare(
        "SELECT count(*) FROM device_results WHERE site_id = ? AND state = 'succeeded' AND revision = 3",
      )
      .pluck()
      .get(controlPlane.siteId) as number;
    const verdicts = db
      .prepare("SELECT count(*) FROM deliveries WHERE site_id = ? AND agent_verdict = 'completed'")
      .pluck()
      .get(controlPlane.siteId) as number;

    return [
      {
        name: 'control plane recorded each event once',
        passed: recorded.length === expected.length && missing === 0,
        detail: `${recorded.length} recorded of ${expected.length} sent, ${missing} out of place`,
      },
      {
        name: 'control plane holds every final result',
        passed: results === jobIds.length * devices && verdicts === jobIds.length,
        detail: `${results} results of ${jobIds.length * devices}, ${verdicts} verdicts of ${jobIds.length}`,
      },
    ];
  } finally {
    db.close();
  }
}
