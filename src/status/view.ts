import type { Clock } from '../clock.js';
import type { DeviceConfig } from '../devices/types.js';
import type { ErrorCode } from '../errors.js';
import type { Run } from '../jobs/types.js';
import type { DeviceRecord } from '../store/devices.js';
import type { DeviceLastRun, JobSummary, StatusQueries } from '../store/status-queries.js';
import type { Store } from '../store/store.js';
import type { UplinkState, UplinkStatus } from '../uplink/types.js';

/** The running agent's state as the status endpoint reads it. */
export type StatusSource = {
  siteId: string;
  version: string;
  /** Milliseconds since the epoch at which the agent started. */
  startedAt: number;
  clock: Clock;
  store: Store;
  queries: StatusQueries;
  /** The current device inventory; it changes on a reload. */
  devices(): readonly DeviceConfig[];
  uplink(): UplinkStatus;
  /** Runs executing on devices right now. */
  runningRuns(): number;
  /** The configuration in use: its file, when it was loaded, and the last failed reload. */
  configState(): ConfigState;
};

/** The configuration file in use and the outcome of the last reload. */
export type ConfigState = {
  file: string;
  /** Milliseconds since the epoch of the start or of the last successful reload. */
  loadedAt: number;
  /** The last reload that failed after `loadedAt`; the previous inventory stayed in use. */
  reloadError?: { code: ErrorCode; message: string; at: number };
};

/** One device in `/status`. */
export type DeviceView = {
  id: string;
  name: string;
  transport: DeviceConfig['transport'];
  host: string;
  /** RouterOS version the device reported at its last login that read it. */
  routerosVersion: string | null;
  /** Time of the last login, also one whose facts could not be read. */
  lastSeenAt: string | null;
  /** Whether the last finished run logged in to the device; null before the first run. */
  reachable: boolean | null;
  lastResult: {
    jobId: string;
    state: Run['state'];
    reasonCode: ErrorCode | null;
    finishedAt: string | null;
  } | null;
};

/** The body of `/status`. */
export type StatusView = {
  /** The store's outbox id: a UUID made with the database, naming this agent to the control plane. */
  agentId: string;
  siteId: string;
  version: string;
  nodeVersion: string;
  startedAt: string;
  uptimeSeconds: number;
  uplink: {
    state: UplinkState;
    connected: boolean;
    lastContactAt: string | null;
    connectedSince: string | null;
    failedAttempts: number;
    lastError: { code: ErrorCode; message: string } | null;
    unacknowledgedEvents: number;
  };
  /** Runs stored and not started yet. */
  queueDepth: number;
  runningRuns: number;
  /** Status events not yet acknowledged by the control plane. */
  outboxDepth: number;
  devices: DeviceView[];
};

/** Turns milliseconds since the epoch into an RFC 3339 time, or null. */
export function isoTime(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** Builds the body of `/status` from the agent's current state. */
export function buildStatusView(source: StatusSource): StatusView {
  const now = source.clock.now();
  const uplink = source.uplink();
  const counts = source.queries.runCounts();
  const lastRuns = source.queries.lastRuns();
  const lastContacts = source.queries.lastContacts();

  return {
    agentId: source.store.outbox.id,
    siteId: source.siteId,
    version: source.version,
    nodeVersion: process.version,
    startedAt: new Date(source.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((now - source.startedAt) / 1000)),
    uplink: {
      state: uplink.state,
      connected: uplink.state === 'connected',
      lastContactAt: isoTime(uplink.lastContactAt),
      connectedSince: isoTime(uplink.connectedSince),
      failedAttempts: uplink.failedAttempts,
      lastError: uplink.lastError ?? null,
      unacknowledgedEvents: uplink.unacknowledged,
    },
    queueDepth: counts.pending ?? 0,
    runningRuns: source.runningRuns(),
    outboxDepth: source.store.outbox.depth(),
    devices: source.devices().map((device) => {
      const facts = source.store.devices.facts(device.id);
      const lastLoginAt = source.store.devices.lastLoginAt(device.id);
      const reachable = deviceReachable(lastLoginAt, lastContacts.get(device.id));
      return deviceView(device, { facts, lastLoginAt, reachable }, lastRuns.get(device.id));
    }),
  };
}

/** The stored facts and last login of a device, for its view. */
type LoginRecord = {
  facts: DeviceRecord | undefined;
  lastLoginAt: number | undefined;
  reachable: boolean | null;
};

function deviceView(
  device: DeviceConfig,
  login: LoginRecord,
  lastRun: DeviceLastRun | undefined,
): DeviceView {
  const { facts, lastLoginAt, reachable } = login;
  return {
    id: device.id,
    name: device.name,
    transport: device.transport,
    host: device.host,
    routerosVersion: facts?.version ?? null,
    lastSeenAt: isoTime(lastLoginAt),
    reachable,
    lastResult:
      lastRun === undefined
        ? null
        : {
            jobId: lastRun.jobId,
            state: lastRun.state,
            reasonCode: lastRun.reasonCode ?? null,
            finishedAt: isoTime(lastRun.finishedAt),
          },
  };
}

/**
 * Decides whether the agent reached and logged in to a device at its last contact: a run that
 * started after the last recorded login never logged in. Returns null when no finished run has
 * contacted the device and it has never logged in.
 */
export function deviceReachable(
  lastLoginAt: number | undefined,
  lastContactAt: number | undefined,
): boolean | null {
  if (lastContactAt === undefined) {
    return lastLoginAt === undefined ? null : true;
  }

  return lastLoginAt !== undefined && lastLoginAt >= lastContactAt;
}

/** Returns a job summary with times as RFC 3339 strings. */
export function jobView(job: JobSummary): Record<string, unknown> {
  return {
    id: job.id,
    description: job.description,
    verdict: job.verdict,
    targets: job.targets,
    launchAt: isoTime(job.launchAt),
    expiresAt: isoTime(job.expiresAt),
    receivedAt: isoTime(job.receivedAt),
    launchedAt: isoTime(job.launchedAt),
    cancelRequestedAt: isoTime(job.cancelRequestedAt),
    finishedAt: isoTime(job.finishedAt),
    authorizedBy: job.authorizedBy,
    makeBackup: job.makeBackup,
    scriptBytes: job.scriptBytes,
    runs: job.runs,
  };
}

/** Returns one run with its output and times as RFC 3339 strings. */
export function runView(run: Run): Record<string, unknown> {
  return {
    deviceId: run.deviceId,
    state: run.state,
    revision: run.revision,
    reasonCode: run.reasonCode ?? null,
    reasonMessage: run.reasonMessage ?? null,
    errorLine: run.errorLine ?? null,
    errorColumn: run.errorColumn ?? null,
    output: run.output ?? null,
    outputTruncated: run.outputTruncated,
    outputBytes: run.outputBytes,
    outputCaptured: run.outputCaptured,
    startedAt: isoTime(run.startedAt),
    finishedAt: isoTime(run.finishedAt),
  };
}

/**
 * This site's view of a job in the control plane's `ScriptProgress` shape: the site id in
 * `completed`, `failed` or `pending` by the job's verdict.
 */
export function progressView(
  siteId: string,
  job: JobSummary,
): { completed: string[]; failed: string[]; pending: string[] } {
  return {
    completed: job.verdict === 'completed' ? [siteId] : [],
    failed: job.verdict === 'failed' ? [siteId] : [],
    pending: job.verdict === 'pending' ? [siteId] : [],
  };
}
