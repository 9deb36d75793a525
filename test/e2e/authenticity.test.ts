import { describe, expect, it, onTestFinished } from 'vitest';

import { statusGet } from '../support/agent-site.js';
import { ControlPlaneProcess } from '../support/control-plane-process.js';
import { markedScript, mixedFleet, ProcessSite, TEST_TIMEOUT_MS } from '../support/process-site.js';

const SCRIPT = markedScript(':put "configured"');

describe('job authenticity end to end', () => {
  it('rejects a job signed with another key', { timeout: TEST_TIMEOUT_MS }, async () => {
    const site = await ProcessSite.start(mixedFleet(3));
    onTestFinished(() => site.stop());
    const trustedPort = site.controlPlane.port;
    const trustedKeyId = site.controlPlane.endpoints.key.keyId;
    await site.controlPlane.stop();
    // Same site and token, but a signing key of its own, where the agent expects the trusted one.
    const impostor = await ControlPlaneProcess.start(site.children, {
      dir: await site.subdirectory('impostor'),
      sites: site.sites,
      port: trustedPort,
      name: 'impostor',
    });
    await site.startAgent();

    const forgedId = await impostor.launchScript(SCRIPT, [site.siteId]);
    const { final, invalid } = await impostor.progressUntilDone(forgedId, 20_000);
    const detail = await impostor.siteDetail(forgedId, site.siteId);
    const onAgent = await statusGet(site.statusUrl, `/jobs/${forgedId}`);

    expect(impostor.endpoints.key.keyId).not.toBe(trustedKeyId);
    expect(invalid).toEqual([]);
    expect(final).toEqual({ completed: [], failed: [site.siteId], pending: [] });
    expect(detail.delivery?.state).toBe('rejected');
    expect(detail.delivery?.reject_code).toBe('JOB_SIGNATURE_INVALID');
    expect(detail.devices).toEqual([]);
    expect(onAgent.status).toBe(404);
    expect(await site.scriptRuns()).toEqual({ r1: 0, r2: 0, r3: 0 });

    // The trusted control plane back on the same port: the same agent runs its job.
    await impostor.stop();
    await site.controlPlane.restart();
    const trustedId = await site.launchScript(SCRIPT);
    const trusted = await site.progressUntilDone(trustedId, 20_000);

    expect(trusted.final).toEqual({ completed: [site.siteId], failed: [], pending: [] });
    expect(await site.scriptRuns()).toEqual({ r1: 1, r2: 1, r3: 1 });
    expect((await statusGet(site.statusUrl, `/jobs/${forgedId}`)).status).toBe(404);
  });
});
