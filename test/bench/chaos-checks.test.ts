import { describe, expect, it } from 'vitest';

import {
  type ChaosEvidence,
  type ControlPlaneJob,
  checkChaosRun,
  type RecordedEvent,
} from '../../bench/support/chaos-checks.js';
import type { ScheduledJob } from '../../bench/support/chaos-jobs.js';
import { counterName } from '../../bench/support/chaos-script.js';
import type { Run } from '../../src/jobs/types.js';
import type { StoredJob } from '../../src/store/types.js';

const SITE = '6f1c2f0e-9d7b-4a53-8a43-1f6d1c0b7e21';
const SCRIPT = '0b6a9c1e-4f2d-4c8e-9a57-3e2f1d0c9b8a';
const OUTBOX = 'c3d2e1f0-1111-4222-8333-944455556666';

function succeeded(deviceId: string): Run {
  return {
    jobId: SCRIPT,
    deviceId,
    state: 'succeeded',
    output: `chaos-run ${deviceId} 1\r\n`,
    outputTruncated: false,
    outputBytes: 20,
    outputCaptured: true,
    startedAt: 1_000,
    finishedAt: 2_000,
    revision: 3,
  };
}

/**
 * Evidence of one job on devices r1 and r2 that both ran it once and succeeded, recorded
 * alike by the agent and the control plane: the checks find nothing in it.
 */
function cleanEvidence(): ChaosEvidence {
  const job: ScheduledJob = {
    number: 1,
    kind: 'quick',
    delaySeconds: 2,
    launchOffsetMs: 0,
    expiryAfterLaunchMs: 60_000,
    launchNow: false,
    makeBackup: false,
    scriptId: SCRIPT,
    launchAt: 1_000,
    expiresAt: 61_000,
    notes: [],
  };
  const runs = [succeeded('r1'), succeeded('r2')];
  const stored = { id: SCRIPT, launchedAt: 1_000, verdict: 'completed' } as StoredJob;
  const remote: ControlPlaneJob = {
    progress: { completed: [SITE], failed: [], pending: [] },
    delivery: { state: 'accepted' },
    devices: runs.map((run) => ({
      device_id: run.deviceId,
      state: run.state,
      revision: run.revision,
      error_code: null,
      output: run.output ?? null,
    })),
  };
  const event = (seq: number, kind: string, deviceId: string | null, revision: number | null) =>
    ({ outboxId: OUTBOX, scriptId: SCRIPT, seq, kind, deviceId, revision }) as RecordedEvent;
  return {
    siteId: SITE,
    deviceIds: ['r1', 'r2'],
    jobs: [job],
    counts: { r1: { [counterName(1)]: 1 }, r2: { [counterName(1)]: 1 } },
    agent: {
      jobs: new Map([[SCRIPT, { job: stored, runs }]]),
      outboxDepth: 0,
      outboxId: OUTBOX,
      lastSeq: 4,
      acknowledgedSeq: 4,
    },
    controlPlane: new Map([[SCRIPT, remote]]),
    events: [
      event(1, 'job_stored', null, null),
      event(2, 'job_launched', null, null),
      event(3, 'run_status', 'r1', 3),
      event(4, 'run_status', 'r2', 3),
    ],
  };
}

function kindsOf(evidence: ChaosEvidence): string[] {
  return checkChaosRun(evidence).map((violation) => violation.kind);
}

function firstRun(evidence: ChaosEvidence): Run {
  const run = evidence.agent.jobs.get(SCRIPT)?.runs[0];
  if (run === undefined) {
    throw new Error('the evidence has no run');
  }

  return run;
}

describe('chaos checks', () => {
  it('accept consistent evidence', () => {
    expect(checkChaosRun(cleanEvidence())).toEqual([]);
  });

  it('flag a script run twice', () => {
    const evidence = cleanEvidence();
    evidence.counts.r1 = { [counterName(1)]: 2 };

    expect(kindsOf(evidence)).toContain('ran-twice');
  });

  it('flag success without a run', () => {
    const evidence = cleanEvidence();
    evidence.counts.r2 = {};

    expect(kindsOf(evidence)).toContain('false-success');
  });

  it('flag a run that claims it never ran', () => {
    const evidence = cleanEvidence();
    Object.assign(firstRun(evidence), { state: 'failed', reasonCode: 'AUTH_FAILED' });

    expect(kindsOf(evidence)).toContain('ran-unrecorded');
  });

  it('accept an interrupted run that ran', () => {
    const evidence = cleanEvidence();
    const job = evidence.agent.jobs.get(SCRIPT);
    Object.assign(firstRun(evidence), { state: 'interrupted', reasonCode: 'INTERRUPTED' });
    Object.assign(job?.job ?? {}, { verdict: 'failed' });
    const remote = evidence.controlPlane.get(SCRIPT);
    Object.assign(remote?.devices[0] ?? {}, { state: 'interrupted', error_code: 'INTERRUPTED' });
    Object.assign(remote?.progress ?? {}, { completed: [], failed: [SITE] });

    expect(checkChaosRun(evidence)).toEqual([]);
  });

  it('flag an older revision at the control plane', () => {
    const evidence = cleanEvidence();
    Object.assign(evidence.controlPlane.get(SCRIPT)?.devices[1] ?? {}, { revision: 2 });

    expect(kindsOf(evidence)).toEqual(['disagreement']);
  });

  it('flag a pending run', () => {
    const evidence = cleanEvidence();
    Object.assign(firstRun(evidence), { state: 'running' });

    expect(kindsOf(evidence)).toContain('not-final');
  });

  it('flag events left in the outbox', () => {
    const evidence = cleanEvidence();
    evidence.agent.outboxDepth = 1;

    expect(kindsOf(evidence)).toEqual(['status-lost']);
  });

  it('flag a sequence number never recorded', () => {
    const evidence = cleanEvidence();
    evidence.events = evidence.events.filter((event) => event.seq !== 2);

    expect(kindsOf(evidence)).toEqual(['status-lost']);
  });

  it('flag a revision recorded twice', () => {
    const evidence = cleanEvidence();
    evidence.events = [...evidence.events, { ...(evidence.events[3] as RecordedEvent), seq: 5 }];
    evidence.agent.lastSeq = 5;
    evidence.agent.acknowledgedSeq = 5;

    expect(kindsOf(evidence)).toEqual(['status-repeated']);
  });

  it('flag a run of a job never stored', () => {
    const evidence = cleanEvidence();
    evidence.agent.jobs.clear();
    Object.assign(evidence.controlPlane.get(SCRIPT) ?? {}, {
      delivery: null,
      progress: { completed: [], failed: [SITE], pending: [] },
    });

    expect(kindsOf(evidence)).toContain('ran-unrecorded');
  });
});
