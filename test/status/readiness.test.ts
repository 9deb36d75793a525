import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { Agent } from '../../src/daemon/agent.js';
import { createSilentLogger } from '../../src/logging.js';
import { AgentMetrics } from '../../src/status/metrics.js';
import { StatusServer } from '../../src/status/server.js';
import { UplinkClient } from '../../src/uplink/client.js';
import { type AgentSite, startAgentSite, statusGet, waitUntil } from '../support/agent-site.js';
import { ManualClock } from '../support/manual-clock.js';
import { testStatusSource } from '../support/status-source.js';
import { openTempStore } from '../support/temp-store.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/** Starts a site and an in-process agent with `status` as its status section. */
async function startAgent(
  status: Record<string, unknown>,
): Promise<{ agent: Agent; site: AgentSite }> {
  const site = await startAgentSite([{ id: 'r1' }]);
  cleanups.push(() => site.stop());
  await site.writeConfig({ status });
  const agent = await Agent.start({
    config: await loadConfig(site.configFile),
    logger: createSilentLogger(),
  });
  cleanups.push(() => agent.stop('test finished'));
  return { agent, site };
}

describe('status endpoint on loopback', () => {
  it.each(['127.0.0.1:0', '127.0.0.2:0', '[::1]:0'])('serves %s without token', async (listen) => {
    const { agent, site } = await startAgent({ listen });
    const response = await statusGet(agent.statusUrl, '/status', null);

    expect(response.status).toBe(200);
    expect((response.body as { siteId: string }).siteId).toBe(site.siteId);
  });
});

describe('GET /readyz', () => {
  it('stays ready through an uplink outage', async () => {
    const { agent, site } = await startAgent({ listen: '127.0.0.1:0' });
    const uplinkState = async () =>
      ((await statusGet(agent.statusUrl, '/status', null)).body as { uplink: { state: string } })
        .uplink.state;
    await waitUntil(async () => (await uplinkState()) === 'connected', 10_000, 'connection');

    await site.controlPlane.controlPlane.stop();
    await waitUntil(async () => (await uplinkState()) !== 'connected', 10_000, 'disconnection');
    const response = await statusGet(agent.statusUrl, '/readyz', null);
    const body = response.body as { ready: boolean; uplink: { state: string } };

    expect(response.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.uplink.state).not.toBe('connected');
  });

  it('returns 503 when the store rejects writes', async () => {
    const clock = new ManualClock();
    const store = openTempStore({ clock });
    cleanups.push(() => store.dispose());
    const uplink = new UplinkClient({
      // Never started, so it connects nowhere; it supplies the idle link state.
      url: 'ws://127.0.0.1:9/agent/v1',
      token: 'unused',
      siteId: '6f1d2c1e-8a4b-4c55-9d3e-2b7f0a9c1d42',
      agentVersion: '0.1.0',
      devices: () => [],
      keys: [],
      intake: async () => undefined,
      cancel: async () => undefined,
      outbox: store.outbox,
      outboxId: store.outbox.id,
      clock,
    });
    const source = testStatusSource(store, clock, () => uplink.getStatus());
    const server = await StatusServer.start({
      host: '127.0.0.1',
      port: 0,
      source,
      metrics: new AgentMetrics(source),
      logger: createSilentLogger(),
    });
    cleanups.push(() => server.close());
    const before = await statusGet(server.url, '/readyz', null);

    store.database.pragma('query_only = ON');
    clock.advance(5000);
    const after = await statusGet(server.url, '/readyz', null);
    const body = after.body as { ready: boolean; store: { ok: boolean; code: string } };

    expect(before.status).toBe(200);
    expect(after.status).toBe(503);
    expect(body.ready).toBe(false);
    expect(body.store.code).toBe('STORE_READ_ONLY');
  });
});
