import { describe, expect, it, onTestFinished } from 'vitest';

import { Store } from '../../src/store/store.js';
import { waitUntil } from '../support/agent-site.js';
import { waitForLog } from '../support/daemon.js';
import { auditEvents } from '../support/event-audit.js';
import {
  delayedScript,
  mixedFleet,
  ProcessSite,
  type RunSummary,
  recordedRunSummaries,
  TEST_TIMEOUT_MS,
} from '../support/process-site.js';

/** With two runs at a time, the job takes three rounds of 1.5 seconds on six devices. */
const SCRIPT = delayedScript('1500ms');

/** Reads the runs of `jobId` from the agent's store file; the agent must be stopped. */
function storedRuns(file: string, jobId: string): RunSummary[] {
  const store = Store.open(file);
  try {
    return store.runs
      .list(jobId, false)
      .map(({ deviceId, state, revision }) => ({ deviceId, state, revision }))
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  } finally {
    store.close();
  }
}

/** Sums the script runs of every device. */
function total(runs: Record<string, number>): number {
  return Object.values(runs).reduce((sum, count) => sum + count, 0);
}

describe('agent killed mid-job', () => {
  it('interrupts running runs and finishes pending ones', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const site = await ProcessSite.start(mixedFleet(6), { concurrency: 2 });
    onTestFinished(() => site.stop());
    await site.startAgent();
    const scriptId = await site.launchScript(SCRIPT);
    await waitUntil(
      async () => total(await site.scriptRuns()) >= 3,
      20_000,
      'second round of runs started',
    );

    site.children.signal('agent', 'SIGKILL');
    await site.children.exited('agent');
    const runsAtKill = await site.scriptRuns();
    await site.startAgent('agent-2');
    const started = await waitForLog(site.children, 'agent-2', 'agent started');
    const { final, invalid } = await site.progressUntilDone(scriptId, 30_000);
    await site.waitForOutboxEmpty();
    const detail = await site.siteDetail(scriptId);
    const audit = auditEvents(site.controlPlane.recordedEvents(site.siteId), scriptId);
    await site.children.stop('agent-2');
    const stored = storedRuns(site.storeFile, scriptId);
    const runsAfter = await site.scriptRuns();

    const interrupted = stored.filter((run) => run.state === 'interrupted');
    const continued = stored.filter(
      (run) => run.state === 'succeeded' && runsAtKill[run.deviceId] === 0,
    );
    expect(started.interruptedRuns).toBe(interrupted.length);
    expect(interrupted.length).toBeGreaterThan(0);
    expect(continued.length).toBeGreaterThan(0);
    expect(stored.filter((run) => !['succeeded', 'interrupted'].includes(run.state))).toEqual([]);
    // A succeeded run ran its script once; an interrupted one never runs it again.
    expect(runsAfter).toEqual(
      Object.fromEntries(
        stored.map((run) => [
          run.deviceId,
          run.state === 'succeeded' ? 1 : (runsAtKill[run.deviceId] ?? 0),
        ]),
      ),
    );
    expect(invalid).toEqual([]);
    expect(final).toEqual({ completed: [], failed: [site.siteId], pending: [] });
    expect(recordedRunSummaries(detail)).toEqual(stored);
    expect(
      detail.devices.filter((device) => device.state === 'interrupted').map((d) => d.error_code),
    ).toEqual(interrupted.map(() => 'INTERRUPTED'));
    expect(audit.repeatedRevisions).toEqual([]);
    expect(audit.missingSeqs).toEqual([]);
    expect(audit.counts.job_launched).toBe(1);
    expect(audit.counts.job_verdict).toBe(1);
  });
});
