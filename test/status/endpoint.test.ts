import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { Agent } from '../../src/daemon/agent.js';
import { createSilentLogger } from '../../src/logging.js';
import {
  type AgentSite,
  STATUS_TOKEN,
  startAgentSite,
  statusGet,
  waitUntil,
} from '../support/agent-site.js';
import { responseValidator } from '../support/openapi.js';

/** A device name with markup, which the status page must show escaped. */
const MARKUP_NAME = '<b>Core & "Edge"</b>';

let site: AgentSite;
let agent: Agent;
let scriptId: string;

const get = (pathname: string, token: string | null = STATUS_TOKEN) =>
  statusGet(agent.statusUrl, pathname, token);

beforeAll(async () => {
  site = await startAgentSite([{ id: 'r1' }, { id: 'r2', faults: ['auth-fail'] }]);
  const config = site.baseConfig();
  const devices = config.devices as Array<Record<string, unknown>>;
  devices[0] = { ...devices[0], name: MARKUP_NAME };
  await site.writeConfig({ devices });
  agent = await Agent.start({
    config: await loadConfig(site.configFile),
    logger: createSilentLogger(),
  });
  await waitUntil(
    async () =>
      ((await get('/status')).body as { uplink: { connected: boolean } }).uplink.connected,
    10_000,
    'uplink connection',
  );

  scriptId = await site.launchScript(':put "hello from the test"');
  await waitUntil(
    async () => (await get(`/jobs/${scriptId}`)).status === 200,
    10_000,
    'job intake',
  );
  await waitUntil(
    async () =>
      ((await get(`/jobs/${scriptId}`)).body as { job: { verdict: string } }).job.verdict !==
      'pending',
    15_000,
    'job verdict',
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop('test finished');
  await site?.stop();
});

describe('status endpoint health', () => {
  it('livez answers without token', async () => {
    const response = await get('/livez', null);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('readyz reports store and uplink', async () => {
    const response = await get('/readyz', null);
    const body = response.body as {
      ready: boolean;
      store: { ok: boolean };
      uplink: { state: string };
    };

    expect(response.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.store.ok).toBe(true);
    expect(body.uplink.state).toBe('connected');
  });

  it('HEAD returns headers only', async () => {
    const response = await fetch(`${agent.statusUrl}/livez`, { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });
});

describe('status endpoint token', () => {
  it('rejects a request without token', async () => {
    const response = await get('/status', null);

    expect(response.status).toBe(401);
    expect((response.body as { code: string }).code).toBe('UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic .*, Bearer /);
  });

  it('serves the page to a browser login', async () => {
    const login = Buffer.from(`admin:${STATUS_TOKEN}`).toString('base64');
    const response = await fetch(`${agent.statusUrl}/`, {
      headers: { authorization: `Basic ${login}` },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('rejects a wrong token', async () => {
    const response = await get('/status', `${STATUS_TOKEN}x`);

    expect(response.status).toBe(401);
  });

  it('hides unknown paths behind the token', async () => {
    expect((await get('/no-such-page', null)).status).toBe(401);
  });
});

describe('GET /status', () => {
  it('reports agent, site and uplink', async () => {
    const body = (await get('/status')).body as Record<string, unknown> & {
      uplink: Record<string, unknown>;
    };

    expect(body.siteId).toBe(site.siteId);
    expect(body.agentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.version).toBe('0.1.0');
    expect(typeof body.uptimeSeconds).toBe('number');
    expect(body.uplink.connected).toBe(true);
    expect(typeof body.uplink.lastContactAt).toBe('string');
    expect(body.queueDepth).toBe(0);
    expect(body.runningRuns).toBe(0);
    expect(body.outboxDepth).toBe(0);
  });

  it('reports each device last result', async () => {
    const body = (await get('/status')).body as {
      devices: Array<{
        id: string;
        reachable: boolean | null;
        lastResult: { state: string; reasonCode: string | null };
      }>;
    };
    const byId = new Map(body.devices.map((device) => [device.id, device]));

    expect(byId.get('r1')?.lastResult.state).toBe('succeeded');
    expect(byId.get('r1')?.reachable).toBe(true);
    expect(byId.get('r2')?.lastResult.reasonCode).toBe('AUTH_FAILED');
    expect(byId.get('r2')?.reachable).toBe(false);
  });
});

describe('GET /jobs', () => {
  it('lists the job with run counts', async () => {
    const body = (await get('/jobs')).body as {
      jobs: Array<{
        id: string;
        verdict: string;
        runs: Record<string, number>;
        scriptBytes: number;
      }>;
    };

    expect(body.jobs.map((job) => job.id)).toEqual([scriptId]);
    expect(body.jobs[0]?.verdict).toBe('failed');
    expect(body.jobs[0]?.runs).toEqual({ succeeded: 1, failed: 1 });
    expect(body.jobs[0]).not.toHaveProperty('script');
  });

  it('rejects an invalid limit', async () => {
    const response = await get('/jobs?limit=0');

    expect(response.status).toBe(400);
    expect((response.body as { code: string }).code).toBe('REQUEST_INVALID');
  });

  it('returns runs with outputs', async () => {
    const body = (await get(`/jobs/${scriptId}`)).body as {
      runs: Array<{
        deviceId: string;
        state: string;
        output: string | null;
        reasonCode: string | null;
      }>;
    };
    const byId = new Map(body.runs.map((run) => [run.deviceId, run]));

    expect(byId.get('r1')?.state).toBe('succeeded');
    expect(byId.get('r1')?.output).toContain('hello from the test');
    expect(byId.get('r2')?.state).toBe('failed');
    expect(byId.get('r2')?.reasonCode).toBe('AUTH_FAILED');
  });

  it('returns 404 for unknown job', async () => {
    const response = await get('/jobs/00000000-0000-4000-8000-000000000000');

    expect(response.status).toBe(404);
    expect((response.body as { code: string }).code).toBe('JOB_NOT_FOUND');
  });
});

describe('GET progress', () => {
  it('lists this site as failed', async () => {
    const response = await get(`/scripts/scheduled/${scriptId}/progress`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ completed: [], failed: [site.siteId], pending: [] });
  });

  it('matches the ScriptProgress schema', async () => {
    const validate = responseValidator('/scripts/scheduled/{scheduledScriptId}/progress', 'get');
    const response = await get(`/scripts/scheduled/${scriptId}/progress`);

    expect(validate(response.status, response.body)).toBeUndefined();
  });
});

describe('GET /metrics', () => {
  it('exports prefixed Prometheus text', async () => {
    const response = await get('/metrics');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^edge_agent_runs_total\{state="succeeded"\} 1$/m);
    expect(response.text).toMatch(/^edge_agent_runs_total\{state="failed"\} 1$/m);
    expect(response.text).toMatch(
      /^edge_agent_run_duration_seconds_count\{state="succeeded"\} 1$/m,
    );
    expect(response.text).toMatch(/^edge_agent_jobs_received_total 1$/m);
    expect(response.text).toMatch(/^edge_agent_uplink_connected 1$/m);
    expect(response.text).toMatch(/^edge_agent_queue_depth 0$/m);
    expect(response.text).toMatch(/^edge_agent_outbox_depth 0$/m);
    expect(response.text).toMatch(/^edge_agent_device_reachable\{device="r2"\} 0$/m);
    expect(response.text).toMatch(/^edge_agent_process_resident_memory_bytes /m);
  });

  it('exports no metric without prefix', async () => {
    const names = (await get('/metrics')).text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(/[{ ]/)[0] ?? '');

    expect(names.filter((name) => !name.startsWith('edge_agent_'))).toEqual([]);
  });
});

describe('status page', () => {
  it('renders escaped HTML that reloads', async () => {
    const response = await get('/');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.text).toContain('&lt;b&gt;Core &amp; &quot;Edge&quot;&lt;/b&gt;');
    expect(response.text).not.toContain(MARKUP_NAME);
    expect(response.text).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(response.text).not.toMatch(/<script|<link|src=/i);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('status endpoint errors', () => {
  it('returns 404 JSON for unknown path', async () => {
    const response = await get('/no-such-page');

    expect(response.status).toBe(404);
    expect((response.body as { code: string }).code).toBe('NOT_FOUND');
  });

  it.each(['//status', '//', '//jobs', '/status/'])('returns 404 for %s', async (pathname) => {
    const response = await get(pathname);

    expect(response.status).toBe(404);
    expect((response.body as { code: string }).code).toBe('NOT_FOUND');
  });

  it('returns 405 for other methods', async () => {
    const response = await fetch(`${agent.statusUrl}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${STATUS_TOKEN}` },
    });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(((await response.json()) as { code: string }).code).toBe('REQUEST_INVALID');
  });
});
