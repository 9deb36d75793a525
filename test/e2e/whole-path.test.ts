import { describe, expect, it, onTestFinished } from 'vitest';

import { markedScript, ProcessSite, TEST_TIMEOUT_MS } from '../support/process-site.js';

/** Stops with `:error` on the router named `broken-router`, so one device fails by design. */
const SCRIPT = markedScript(
  ':local name [/system identity get name]',
  ':if ($name = "broken-router") do={ :error "refusing to configure this router" }',
  ':put ("configured " . $name)',
);

const DEVICES = [
  { id: 'core-api', transport: 'api' as const },
  { id: 'branch-ssl', transport: 'api-ssl' as const },
  { id: 'shop-ssh', transport: 'ssh' as const },
  { id: 'legacy-v6', transport: 'api' as const, version: '6.49.10' },
  { id: 'broken', transport: 'api' as const, identity: 'broken-router' },
];

describe('a script from the Scripts API to every device', () => {
  it('runs once per device and reports each result', { timeout: TEST_TIMEOUT_MS }, async () => {
    const site = await ProcessSite.start(DEVICES);
    onTestFinished(() => site.stop());
    await site.startAgent();

    const scriptId = await site.launchScript(SCRIPT);
    const { final, responses, invalid } = await site.progressUntilDone(scriptId, 30_000);
    const detail = await site.siteDetail(scriptId);

    expect(responses).toBeGreaterThan(0);
    expect(invalid).toEqual([]);
    expect(final).toEqual({ completed: [], failed: [site.siteId], pending: [] });
    expect(detail.devices.map((device) => device.device_id)).toEqual(
      DEVICES.map((device) => device.id).sort(),
    );
    for (const id of ['core-api', 'branch-ssl', 'shop-ssh', 'legacy-v6']) {
      const result = detail.devices.find((device) => device.device_id === id);
      expect(result?.state, id).toBe('succeeded');
      expect(result?.output, id).toContain(`configured ${id}`);
    }

    const broken = detail.devices.find((device) => device.device_id === 'broken');
    expect(broken?.state).toBe('failed');
    expect(broken?.error_code).toBe('SCRIPT_FAILED');
    expect(broken?.error_message).toEqual(expect.any(String));
    expect(await site.scriptRuns()).toEqual({
      'core-api': 1,
      'branch-ssl': 1,
      'shop-ssh': 1,
      'legacy-v6': 1,
      broken: 1,
    });
  });
});
