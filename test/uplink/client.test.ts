import { afterEach, describe, expect, it } from 'vitest';
import {
  apiRequest,
  scriptBody,
  startTestControlPlane,
  type TestControlPlane,
} from '../support/control-plane.js';
import { ManualClock } from '../support/manual-clock.js';
import { closedPort } from '../support/ports.js';
import { waitFor } from '../support/sockets.js';
import { startTestAgent, type TestAgent } from '../support/uplink.js';

let fixture: TestControlPlane | undefined;
const agents: TestAgent[] = [];

afterEach(async () => {
  for (const agent of agents.splice(0)) {
    await agent.stop();
  }

  await fixture?.stop();
  fixture = undefined;
});

async function setup(clock = new ManualClock(), heartbeatIntervalSeconds = 30) {
  const cp = await startTestControlPlane({ clock, siteCount: 1, heartbeatIntervalSeconds });
  fixture = cp;
  const site = cp.sites[0];
  if (site === undefined) {
    throw new Error('fixture has no site');
  }

  const agent = await startTestAgent({
    url: cp.controlPlane.info.agentUrl,
    token: site.token,
    siteId: site.id,
    keys: [cp.key],
    clock,
  });
  agents.push(agent);
  return { cp, site, agent, clock, token: await cp.token() };
}

async function authorizedScript(cp: TestControlPlane, token: string, siteId: string, now: number) {
  const created = await apiRequest(cp, 'POST', '/scripts/scheduled', {
    token,
    body: scriptBody([siteId], { launch_at: new Date(now + 300_000).toISOString() }, now),
  });
  const id = (created.body as { id: string }).id;
  await apiRequest(cp, 'POST', `/scripts/scheduled/${id}/authorize`, { token });
  return id;
}

describe('uplink without a control plane', () => {
  it('names the URL when refused', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}/agent/v1`;
    const agent = await startTestAgent({ url, token: 'site-token', siteId: 'site-1', keys: [] });
    agents.push(agent);

    await waitFor(() => agent.client.getStatus().lastError !== undefined, 5000, 'first attempt');
    const lastError = agent.client.getStatus().lastError;
    expect(lastError?.code).toBe('UPLINK_UNAVAILABLE');
    expect(lastError?.message).toContain(url);
  });
});

describe('uplink with the control plane', () => {
  it('stores and accepts an authorized job', async () => {
    const { cp, site, agent, clock, token } = await setup();
    await waitFor(() => agent.client.getStatus().state === 'connected', 5000, 'connection');

    const id = await authorizedScript(cp, token, site.id, clock.now());

    await waitFor(() => cp.controlPlane.deliveries.get(id, site.id)?.state === 'accepted');
    expect(agent.jobIds()).toEqual([id]);
  });

  it('holds an offer until the delivery lead', async () => {
    const clock = new ManualClock();
    const { cp, site, agent, token } = await setup(clock, 600);
    await waitFor(() => agent.client.getStatus().state === 'connected');
    const body = scriptBody([site.id], {
      launch_at: new Date(clock.now() + 2 * 3_600_000).toISOString(),
    });
    const created = await apiRequest(cp, 'POST', '/scripts/scheduled', { token, body });
    const id = (created.body as { id: string }).id;
    await apiRequest(cp, 'POST', `/scripts/scheduled/${id}/authorize`, { token });

    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(agent.jobIds()).toEqual([]);

    // Steps shorter than the heartbeat interval, with time for pongs, keep the link up.
    for (let elapsed = 0; elapsed < 2 * 3_600_000 - 600_000; elapsed += 300_000) {
      clock.advance(300_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    await waitFor(() => agent.jobIds().length === 1, 5000, 'job stored at lead time');
    expect(agent.jobIds()).toEqual([id]);
  });

  it('launch delivers a later script now', async () => {
    const { cp, site, agent, clock, token } = await setup();
    await waitFor(() => agent.client.getStatus().state === 'connected');
    const body = scriptBody([site.id], {}, clock.now());
    const created = await apiRequest(cp, 'POST', '/scripts/scheduled', { token, body });
    const id = (created.body as { id: string }).id;
    await apiRequest(cp, 'POST', `/scripts/scheduled/${id}/authorize`, { token });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(agent.jobIds()).toEqual([]);

    await apiRequest(cp, 'POST', `/scripts/scheduled/${id}/launch`, { token });

    await waitFor(() => agent.jobIds().length === 1, 5000, 'job stored');
    expect(agent.store.jobs.get(id)?.launchAt).toBe(clock.now());
  });

  it('rejects launch after the offer', async () => {
    const { cp, site, agent, clock, token } = await setup();
    await waitFor(() => agent.client.getStatus().state === 'connected');
    const id = await authorizedScript(cp, token, site.id, clock.now());
    await waitFor(() => agent.jobIds().length === 1, 5000, 'job stored');

    const launch = await apiRequest(cp, 'POST', `/scripts/scheduled/${id}/launch`, { token });

    expect(launch.status).toBe(409);
    expect((launch.body as { code: string }).code).toBe('CONFLICT');
    expect(agent.store.jobs.get(id)?.launchAt).toBe(clock.now() + 300_000);
  });

  it('offers a job when the agent connects later', async () => {
    const clock = new ManualClock();
    const cp = await startTestControlPlane({ clock, siteCount: 1 });
    fixture = cp;
    const site = cp.sites[0];
    const id = await authorizedScript(cp, await cp.token(), site?.id ?? '', clock.now());

    const agent = await startTestAgent({
      url: cp.controlPlane.info.agentUrl,
      token: site?.token ?? '',
      siteId: site?.id ?? '',
      keys: [cp.key],
      clock,
    });
    agents.push(agent);

    await waitFor(() => agent.jobIds().length === 1, 5000, 'job stored');
    expect(agent.jobIds()).toEqual([id]);
  });

  it('records outbox events and acknowledges them', async () => {
    const { cp, site, agent, clock, token } = await setup();
    const id = await authorizedScript(cp, token, site.id, clock.now());
    await waitFor(() => agent.jobIds().length === 1);

    agent.runJob(id, { 'router-1': 'succeeded', 'router-2': 'failed' });
    const last = agent.store.outbox.lastSeq();

    await waitFor(() => agent.store.outbox.acknowledgedSeq() === last, 5000, 'acknowledgement');
    const progress = await apiRequest(cp, 'GET', `/scripts/scheduled/${id}/progress`, { token });
    expect(progress.body).toEqual({ completed: [], failed: [site.id], pending: [] });
    expect(cp.controlPlane.deliveries.results(id, site.id).map((r) => r.state)).toEqual([
      'succeeded',
      'failed',
    ]);
    const detail = await apiRequest(cp, 'GET', `/scripts/scheduled/${id}/sites/${site.id}`, {
      token,
    });
    const devices = (detail.body as { devices: Array<Record<string, unknown>> }).devices;
    expect((detail.body as { verdict: string }).verdict).toBe('failed');
    expect(devices.map((device) => device.output)).toEqual([
      'router-1 succeeded',
      'router-2 failed',
    ]);
    expect(devices[1]?.error_code).toBe('SCRIPT_FAILED');
  });

  it('resends unacknowledged events after restart', async () => {
    const { cp, site, agent, clock, token } = await setup();
    const id = await authorizedScript(cp, token, site.id, clock.now());
    await waitFor(() => agent.jobIds().length === 1);
    await cp.controlPlane.stop();
    await waitFor(() => agent.client.getStatus().state === 'backoff', 5000, 'backoff');

    agent.runJob(id, { 'router-1': 'succeeded', 'router-2': 'succeeded' });
    const last = agent.store.outbox.lastSeq();
    await cp.restart();
    clock.advance(1000);

    await waitFor(() => agent.store.outbox.acknowledgedSeq() === last, 5000, 'acknowledgement');
    const progress = await apiRequest(cp, 'GET', `/scripts/scheduled/${id}/progress`, { token });
    expect(progress.body).toEqual({ completed: [site.id], failed: [], pending: [] });
    expect(cp.controlPlane.deliveries.countEvents(id, site.id)).toBe(last);
  });

  it('delivers cancellation to the agent', async () => {
    const { cp, site, agent, clock, token } = await setup();
    const id = await authorizedScript(cp, token, site.id, clock.now());
    await waitFor(() => cp.controlPlane.deliveries.get(id, site.id)?.state === 'accepted');

    await apiRequest(cp, 'DELETE', `/scripts/scheduled/${id}`, { token });

    await waitFor(
      () => agent.store.jobs.get(id)?.cancelRequestedAt !== undefined,
      5000,
      'cancellation',
    );
    expect(agent.store.jobs.get(id)?.cancelRequestedAt !== undefined).toBe(true);
  });

  it('rejects edits after delivery', async () => {
    const { cp, site, agent, clock, token } = await setup();
    const id = await authorizedScript(cp, token, site.id, clock.now());
    await waitFor(() => agent.jobIds().length === 1);

    const response = await apiRequest(cp, 'PUT', `/scripts/scheduled/${id}`, {
      token,
      body: scriptBody([site.id], {}, clock.now()),
    });

    expect(response.status).toBe(409);
  });
});

describe('uplink reconnection', () => {
  it('backs off with growing jittered delays', async () => {
    const { cp, agent, clock } = await setup();
    await waitFor(() => agent.client.getStatus().state === 'connected');
    await cp.controlPlane.stop();
    const delays: number[] = [];

    for (let attempt = 0; attempt < 8; attempt += 1) {
      await waitFor(
        () =>
          agent.client.getStatus().state === 'backoff' &&
          agent.client.getStatus().failedAttempts === attempt + 1,
        5000,
        `backoff ${attempt + 1}`,
      );
      const delay = (agent.client.getStatus().nextAttemptAt ?? 0) - clock.now();
      delays.push(delay);
      clock.advance(delay);
    }

    expect(delays).toEqual([1000, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('reconnects once the control plane returns', async () => {
    const { cp, agent, clock } = await setup();
    await waitFor(() => agent.client.getStatus().state === 'connected');
    await cp.controlPlane.stop();
    await waitFor(() => agent.client.getStatus().state === 'backoff');

    await cp.restart();
    clock.advance((agent.client.getStatus().nextAttemptAt ?? 0) - clock.now());

    await waitFor(() => agent.client.getStatus().state === 'connected', 5000, 'reconnection');
    expect(agent.client.getStatus().failedAttempts).toBe(0);
  });
});
