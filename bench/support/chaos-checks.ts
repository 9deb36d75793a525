import { decideVerdict, FINAL_RUN_STATES, type Run } from '../../src/jobs/types.js';
import type { StoredJob } from '../../src/store/types.js';
import type { RunCounts } from './chaos-fleet.js';
import type { ScheduledJob } from './chaos-jobs.js';
import { counterName, parseChaosOutput } from './chaos-script.js';

/** Kinds of broken promise the checks find. */
export type ViolationKind =
  /** A script ran more than once on one device. */
  | 'ran-twice'
  /** A script ran, but the agent's record states that it did not, or the store lacks the job. */
  | 'ran-unrecorded'
  /** A run is recorded `succeeded` without the device having run its script once. */
  | 'false-success'
  /** A job or run is not final after the site settled. */
  | 'not-final'
  /** The control plane and the agent's store disagree. */
  | 'disagreement'
  /** Status events never reached the control plane, or it recorded one twice. */
  | 'status-lost'
  | 'status-repeated'
  /** A process stopped other than the driver asked. */
  | 'process';

/** One broken promise: its kind, which job and device, and what was seen. */
export type Violation = { kind: ViolationKind; job?: number; device?: string; what: string };

/** A job and its runs, read from the agent's store at the end. */
export type StoredJobRecord = { job: StoredJob; runs: Run[] };

/** The agent's store after the final stop. */
export type AgentView = {
  jobs: Map<string, StoredJobRecord>;
  outboxDepth: number;
  outboxId: string;
  lastSeq: number;
  acknowledgedSeq: number;
};

/** One device result of `GET /scripts/scheduled/{id}/sites/{siteId}`. */
export type DeviceResource = {
  device_id: string;
  state: string;
  revision: number;
  error_code: string | null;
  output: string | null;
};

/** The control plane's progress, delivery and device results of one job at the end. */
export type ControlPlaneJob = {
  progress: { completed: string[]; failed: string[]; pending: string[] };
  delivery: { state: string } | null;
  devices: DeviceResource[];
};

/** One row of the control plane's `status_events`. */
export type RecordedEvent = {
  outboxId: string;
  scriptId: string;
  seq: number;
  kind: string;
  deviceId: string | null;
  revision: number | null;
};

export type ChaosEvidence = {
  siteId: string;
  deviceIds: readonly string[];
  jobs: readonly ScheduledJob[];
  counts: RunCounts;
  agent: AgentView;
  controlPlane: Map<string, ControlPlaneJob>;
  events: readonly RecordedEvent[];
};

/**
 * Reason codes of runs that end before the script is sent: a run that ended with one of them
 * must not have run.
 */
const NOT_SENT_CODES = new Set([
  'EXPIRED',
  'DEVICE_NOT_FOUND',
  'SKIPPED',
  'AUTH_FAILED',
  'SECRET_UNREADABLE',
  'BACKUP_FAILED',
]);

/** Checks every promise of "nothing lost, nothing run twice" over the evidence of one run. */
export function checkChaosRun(evidence: ChaosEvidence): Violation[] {
  const violations: Violation[] = [];
  for (const job of evidence.jobs) {
    violations.push(...checkJob(evidence, job));
  }

  violations.push(...checkOutbox(evidence.agent), ...checkEvents(evidence));
  return violations;
}

function checkJob(evidence: ChaosEvidence, job: ScheduledJob): Violation[] {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, what: string, device?: string): void => {
    violations.push({ kind, job: job.number, ...(device === undefined ? {} : { device }), what });
  };
  const stored = evidence.agent.jobs.get(job.scriptId);
  const remote = evidence.controlPlane.get(job.scriptId);
  const siteVerdict =
    remote === undefined ? 'missing' : verdictIn(remote.progress, evidence.siteId);

  if (siteVerdict === 'pending' || siteVerdict === 'missing') {
    add('not-final', `control plane progress is ${siteVerdict} after the site settled`);
  }

  for (const deviceId of evidence.deviceIds) {
    const ran = evidence.counts[deviceId]?.[counterName(job.number)] ?? 0;
    if (ran > 1) {
      add('ran-twice', `script ran ${ran} times`, deviceId);
    }
  }

  if (stored === undefined) {
    if (remote?.delivery?.state === 'accepted') {
      add(
        'disagreement',
        'the control plane holds the job as accepted but the agent store has no such job',
      );
    }

    for (const deviceId of evidence.deviceIds) {
      if ((evidence.counts[deviceId]?.[counterName(job.number)] ?? 0) > 0) {
        add('ran-unrecorded', 'script ran although the agent store has no such job', deviceId);
      }
    }

    if (siteVerdict === 'completed') {
      add('disagreement', 'progress is completed although the agent never stored the job');
    }

    return violations;
  }

  const storeVerdict = stored.job.verdict;
  if (storeVerdict === 'pending') {
    add('not-final', 'the job is still pending in the agent store');
  } else if (storeVerdict !== decideVerdict(stored.runs.map((run) => run.state))) {
    add('disagreement', `store verdict ${storeVerdict} does not follow from its runs`);
  }

  if (siteVerdict !== storeVerdict) {
    add(
      'disagreement',
      `control plane progress is ${siteVerdict}, agent store verdict is ${storeVerdict}`,
    );
  }

  if (stored.job.launchedAt !== undefined && stored.runs.length !== evidence.deviceIds.length) {
    add(
      'disagreement',
      `launched with ${stored.runs.length} runs for ${evidence.deviceIds.length} devices`,
    );
  }

  const results = new Map((remote?.devices ?? []).map((result) => [result.device_id, result]));
  for (const run of stored.runs) {
    const ran = evidence.counts[run.deviceId]?.[counterName(job.number)] ?? 0;
    for (const [kind, what] of checkRun(run, ran, results.get(run.deviceId))) {
      add(kind, what, run.deviceId);
    }

    results.delete(run.deviceId);
  }

  for (const deviceId of results.keys()) {
    add('disagreement', 'the control plane has a result for a run the agent store lacks', deviceId);
  }

  return violations;
}

/** Compares one run of the store with the device's count and the control plane's result. */
function checkRun(
  run: Run,
  ran: number,
  result: DeviceResource | undefined,
): Array<[ViolationKind, string]> {
  const problems: Array<[ViolationKind, string]> = [];
  if (!FINAL_RUN_STATES.has(run.state)) {
    problems.push(['not-final', `run is still ${run.state} in the agent store`]);
  }

  if (result === undefined) {
    problems.push([
      'status-lost',
      `the control plane has no result for the run (store: ${run.state})`,
    ]);
  } else if (result.state !== run.state || result.revision !== run.revision) {
    problems.push([
      'disagreement',
      `control plane has ${result.state} r${result.revision}, store has ${run.state} r${run.revision}`,
    ]);
  } else if ((result.error_code ?? undefined) !== run.reasonCode) {
    problems.push([
      'disagreement',
      `control plane error ${result.error_code}, store error ${run.reasonCode}`,
    ]);
  } else if ((result.output ?? undefined) !== run.output) {
    problems.push(['disagreement', 'the control plane has another output than the store']);
  }

  if (ran > 0 && claimsNotRun(run)) {
    problems.push([
      'ran-unrecorded',
      `script ran but the run says it did not (${run.state} ${run.reasonCode})`,
    ]);
  }

  if (run.state === 'succeeded') {
    if (ran === 0) {
      problems.push(['false-success', 'run succeeded but the script never ran on the device']);
    }

    const echo = run.outputCaptured ? parseChaosOutput(run.output ?? '') : undefined;
    if (run.outputCaptured && (echo === undefined || echo.run !== ran)) {
      problems.push([
        'false-success',
        `succeeded with output ${JSON.stringify(run.output?.slice(0, 80))}`,
      ]);
    }
  }

  return problems;
}

/** True for a run whose record states that its script never reached the device. */
function claimsNotRun(run: Run): boolean {
  if (run.state === 'pending' || run.state === 'skipped' || run.startedAt === undefined) {
    return true;
  }

  if (run.reasonCode !== undefined && NOT_SENT_CODES.has(run.reasonCode)) {
    return true;
  }

  return run.reasonMessage?.includes('the script did not run') === true;
}

function checkOutbox(agent: AgentView): Violation[] {
  const violations: Violation[] = [];
  if (agent.outboxDepth !== 0) {
    violations.push({
      kind: 'status-lost',
      what: `agent outbox still holds ${agent.outboxDepth} events`,
    });
  }

  if (agent.acknowledgedSeq !== agent.lastSeq) {
    violations.push({
      kind: 'status-lost',
      what: `outbox acknowledged up to ${agent.acknowledgedSeq} of ${agent.lastSeq} events`,
    });
  }

  return violations;
}

/**
 * Checks the control plane's record of status events: every sequence number of the agent's
 * outbox recorded, no run revision recorded under two numbers, one launch and one verdict per
 * job.
 */
function checkEvents(evidence: ChaosEvidence): Violation[] {
  const violations: Violation[] = [];
  const own = evidence.events.filter((event) => event.outboxId === evidence.agent.outboxId);
  const seqs = new Set(own.map((event) => event.seq));
  const missing = [];
  for (let seq = 1; seq <= evidence.agent.lastSeq; seq++) {
    if (!seqs.has(seq)) {
      missing.push(seq);
    }
  }

  if (missing.length > 0) {
    violations.push({
      kind: 'status-lost',
      what: `status events never recorded: seq ${missing.slice(0, 10).join(', ')}`,
    });
  }

  const numbers = new Map(evidence.jobs.map((job) => [job.scriptId, job.number]));
  const seen = new Map<string, number>();
  for (const event of own) {
    const key =
      event.kind === 'run_status'
        ? `${event.scriptId} ${event.deviceId} r${event.revision}`
        : `${event.scriptId} ${event.kind}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    const number = numbers.get(event.scriptId);
    if (count === 2) {
      violations.push({
        kind: 'status-repeated',
        ...(number === undefined ? {} : { job: number }),
        ...(event.deviceId === null ? {} : { device: event.deviceId }),
        what: `${event.kind} ${event.revision ?? ''} recorded twice under different sequence numbers`,
      });
    }
  }

  return violations;
}

function verdictIn(progress: ControlPlaneJob['progress'], siteId: string): string {
  if (progress.completed.includes(siteId)) {
    return 'completed';
  }

  if (progress.failed.includes(siteId)) {
    return 'failed';
  }

  return progress.pending.includes(siteId) ? 'pending' : 'missing';
}
