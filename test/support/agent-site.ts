import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetDeviceOptions } from '../../src/simulator/fleet/options.js';
import { apiRequest, startTestControlPlane, type TestControlPlane } from './control-plane.js';

/** The status token every agent configuration of these fixtures names. */
export const STATUS_TOKEN = 'status-token-for-tests-7c1f0e';

/**
 * A test control plane with one site, a simulated fleet and a directory holding an agent
 * configuration for them: everything an agent daemon needs, started on loopback.
 */
export type AgentSite = {
  controlPlane: TestControlPlane;
  fleet: Fleet;
  dir: string;
  /** The agent configuration file; `writeConfig` (re)writes it. */
  configFile: string;
  siteId: string;
  /** Writes the agent configuration, with `overrides` replacing top-level sections. */
  writeConfig(overrides?: Record<string, unknown>): Promise<void>;
  /** The configuration `writeConfig` writes without overrides. */
  baseConfig(): Record<string, unknown>;
  /** Creates, authorizes and launches `script` for the site; returns the script id. */
  launchScript(script: string): Promise<string>;
  stop(): Promise<void>;
};

/** Starts a control plane and `devices` simulated devices, and writes an agent configuration. */
export async function startAgentSite(devices: FleetDeviceOptions[]): Promise<AgentSite> {
  const controlPlane = await startTestControlPlane({ siteCount: 1 });
  const fleet = await startFleet({ fleet: devices });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-agent-daemon-'));
  const configFile = path.join(dir, 'agent.yaml');
  const site = controlPlane.sites[0];
  if (site === undefined) {
    throw new Error('the test control plane has no site');
  }

  await mkdir(path.join(dir, 'secrets'));
  await writeFile(path.join(dir, 'secrets', 'site-token'), `${site.token}\n`, { mode: 0o600 });
  await writeFile(path.join(dir, 'secrets', 'status-token'), `${STATUS_TOKEN}\n`, { mode: 0o600 });

  const baseConfig = (): Record<string, unknown> => ({
    siteId: site.id,
    logLevel: 'info',
    controlPlane: {
      url: controlPlane.controlPlane.info.agentUrl,
      tokenFile: 'secrets/site-token',
      allowInsecure: true,
      jobSigningKey: {
        keyId: controlPlane.controlPlane.info.keyId,
        publicKey: controlPlane.controlPlane.info.publicKey,
      },
    },
    runs: { connectTimeoutMs: 2000, commandTimeoutMs: 3000, shutdownDrainMs: 2000 },
    status: { listen: '127.0.0.1:0', tokenFile: 'secrets/status-token' },
    store: { path: 'agent.db' },
    devices: fleet.inventory(),
  });

  return {
    controlPlane,
    fleet,
    dir,
    configFile,
    siteId: site.id,
    baseConfig,
    async writeConfig(overrides = {}) {
      await writeFile(configFile, stringify({ ...baseConfig(), ...overrides }));
    },
    async launchScript(script) {
      const token = await controlPlane.token();
      const created = await apiRequest(controlPlane, 'POST', '/scripts/scheduled', {
        token,
        body: {
          description: 'Test script',
          script,
          launch_at: new Date(Date.now() + 3_600_000).toISOString(),
          sites: [site.id],
        },
      });
      const id = (created.body as { id: string }).id;
      await apiRequest(controlPlane, 'POST', `/scripts/scheduled/${id}/authorize`, { token });
      await apiRequest(controlPlane, 'POST', `/scripts/scheduled/${id}/launch`, { token });
      return id;
    },
    async stop() {
      await fleet.close();
      await controlPlane.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** GETs a status endpoint path, with the test status token unless `token` is null. */
export async function statusGet(
  baseUrl: string,
  pathname: string,
  token: string | null = STATUS_TOKEN,
): Promise<{ status: number; headers: Headers; text: string; body: unknown }> {
  const response = await fetch(`${baseUrl}${pathname}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.startsWith('application/json') === true;
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: isJson ? JSON.parse(text) : undefined,
  };
}

/** Polls `check` every 50 ms until it returns true; throws after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  description: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`${description} did not happen within ${timeoutMs} ms`);
    }

    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
