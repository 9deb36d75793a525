import { describe, expect, it, onTestFinished } from 'vitest';

import { waitUntil } from '../support/agent-site.js';
import { auditEvents } from '../support/event-audit.js';
import {
  agentRunSummaries,
  delayedScript,
  finalCount,
  mixedFleet,
  ProcessSite,
  recordedRunSummaries,
  TEST_TIMEOUT_MS,
} from '../support/process-site.js';

/** With two runs at a time, the job takes three rounds of a second on six devices. */
const SCRIPT = delayedScript('1s');

describe('control plane killed mid-job', () => {
  it('records every result once after restart', { timeout: TEST_TIMEOUT_MS }, async () => {
    const site = await ProcessSite.start(mixedFleet(6), { concurrency: 2 });
    onTestFinished(() => site.stop());
    await site.startAgent();
    const scriptId = await site.launchScript(SCRIPT);
    const recordedBeforeKill = await recordedResults(site, scriptId, 1);

    // Frozen, the control plane lets statuses pile up in its socket buffer and acknowledges
    // none, so the kill loses statuses the agent has already sent.
    site.controlPlane.freeze();
    await waitUntil(
      async () => (await site.agentStatus()).uplink.unacknowledgedEvents > 0,
      20_000,
      'a status sent and not acknowledged',
    );
    await site.controlPlane.kill();
    // The job is in the agent's store, so the agent goes on running it without the control plane.
    await waitUntil(
      async () => finalCount(await site.agentRuns(scriptId)) >= recordedBeforeKill + 2,
      20_000,
      'two more runs finished on the agent',
    );
    const duringOutage = await site.agentStatus();
    await site.controlPlane.restart();
    const { final, invalid } = await site.progressUntilDone(scriptId, 30_000);
    const detail = await site.siteDetail(scriptId);
    const agentRuns = await site.agentRuns(scriptId);
    const audit = auditEvents(site.controlPlane.recordedEvents(site.siteId), scriptId);

    expect(recordedBeforeKill).toBeLessThan(6);
    expect(duringOutage.uplink.connected).toBe(false);
    expect(duringOutage.outboxDepth).toBeGreaterThan(0);
    expect(invalid).toEqual([]);
    expect(final).toEqual({ completed: [site.siteId], failed: [], pending: [] });
    expect(recordedRunSummaries(detail)).toEqual(agentRunSummaries(agentRuns));
    expect(detail.devices.map((device) => device.state)).toEqual(Array(6).fill('succeeded'));
    expect(audit.repeatedRevisions).toEqual([]);
    expect(audit.missingSeqs).toEqual([]);
    expect(audit.counts.job_verdict).toBe(1);
    expect(audit.lastRevisions).toEqual(
      Object.fromEntries(agentRuns.map((run) => [run.deviceId, run.revision])),
    );
    expect(await site.scriptRuns()).toEqual({ r1: 1, r2: 1, r3: 1, r4: 1, r5: 1, r6: 1 });
  });
});

/** Waits until the control plane recorded `count` final results; returns how many it has. */
async function recordedResults(site: ProcessSite, scriptId: string, count: number) {
  let recorded = 0;
  await waitUntil(
    async () => {
      recorded = finalCount((await site.siteDetail(scriptId)).devices);
      return recorded >= count;
    },
    20_000,
    `${count} results recorded by the control plane`,
  );
  return recorded;
}
