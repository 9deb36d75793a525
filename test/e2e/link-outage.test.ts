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
import { TcpProxy } from '../support/tcp-proxy.js';

/** With two runs at a time, the job takes three rounds of a second on six devices. */
const SCRIPT = delayedScript('1s');

/** Starts a site whose agent reaches the control plane through a proxy the test can cut. */
async function startBehindProxy(): Promise<{ site: ProcessSite; proxy: TcpProxy }> {
  // A one-second heartbeat lets both sides notice the silent link within about two seconds.
  const site = await ProcessSite.start(mixedFleet(6), {
    heartbeatIntervalSeconds: 1,
    concurrency: 2,
  });
  onTestFinished(() => site.stop());
  const proxy = await TcpProxy.start(site.controlPlane.port);
  onTestFinished(() => proxy.close());
  await site.routeAgentVia(proxy.port);
  await site.startAgent();
  return { site, proxy };
}

describe('agent cut off from the control plane', () => {
  it('buffers statuses and delivers them once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { site, proxy } = await startBehindProxy();
    const scriptId = await site.launchScript(SCRIPT);
    await waitUntil(
      async () => (await site.siteDetail(scriptId)).devices.length > 0,
      20_000,
      'first run reported',
    );

    proxy.cut();
    const atCut = await site.agentStatus();
    await waitUntil(
      async () =>
        finalCount(await site.agentRuns(scriptId)) === 6 &&
        !(await site.agentStatus()).uplink.connected,
      20_000,
      'every run finished with the link down',
    );
    const duringCut = await site.agentStatus();
    const progressDuringCut = await site.progress(scriptId);

    proxy.restore();
    const { final, invalid } = await site.progressUntilDone(scriptId, 30_000);
    await site.waitForOutboxEmpty();
    const detail = await site.siteDetail(scriptId);
    const agentRuns = await site.agentRuns(scriptId);
    const audit = auditEvents(site.controlPlane.recordedEvents(site.siteId), scriptId);

    expect(duringCut.outboxDepth).toBeGreaterThan(atCut.outboxDepth);
    expect(progressDuringCut.body).toEqual({ completed: [], failed: [], pending: [site.siteId] });
    expect(progressDuringCut.errors).toBeUndefined();
    expect(invalid).toEqual([]);
    expect(final).toEqual({ completed: [site.siteId], failed: [], pending: [] });
    expect(recordedRunSummaries(detail)).toEqual(agentRunSummaries(agentRuns));
    expect(detail.devices.map((device) => device.state)).toEqual(Array(6).fill('succeeded'));
    expect(audit.repeatedRevisions).toEqual([]);
    expect(audit.missingSeqs).toEqual([]);
    expect(audit.counts.job_verdict).toBe(1);
    expect(await site.scriptRuns()).toEqual({ r1: 1, r2: 1, r3: 1, r4: 1, r5: 1, r6: 1 });
  });
});
