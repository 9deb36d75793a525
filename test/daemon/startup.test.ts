import { writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Store } from '../../src/store/store.js';
import { type AgentSite, startAgentSite } from '../support/agent-site.js';
import {
  ChildProcesses,
  launcherWithPreload,
  logRecords,
  startDaemon,
  stderrOf,
  waitForLog,
} from '../support/daemon.js';

let site: AgentSite;
let children: ChildProcesses;

beforeAll(async () => {
  site = await startAgentSite([{ id: 'r1' }]);
});

afterAll(async () => {
  await site?.stop();
});

afterEach(async () => {
  await children?.stopAll();
});

/** Starts the daemon on the site's configuration and resolves with its exit code. */
async function exitCodeOfRun(configFile = site.configFile): Promise<number | null> {
  children = new ChildProcesses();
  startDaemon(children, 'agent', configFile);
  return children.exited('agent');
}

describe('edge-agent run startup', () => {
  it('exits 2 on invalid configuration', async () => {
    await site.writeConfig({ runs: { concurrency: 'many' } });

    expect(await exitCodeOfRun()).toBe(2);
    expect(stderrOf(children, 'agent')).toContain(
      `CONFIG_INVALID: configuration ${site.configFile}`,
    );
    expect(stderrOf(children, 'agent')).toContain('runs.concurrency');
  });

  it('exits 2 on missing configuration', async () => {
    const missing = path.join(site.dir, 'missing.yaml');

    expect(await exitCodeOfRun(missing)).toBe(2);
    expect(stderrOf(children, 'agent')).toContain(
      `CONFIG_NOT_FOUND: configuration file ${missing}`,
    );
  });

  it('exits 2 on a wrong key id', async () => {
    const config = site.baseConfig() as { controlPlane: { jobSigningKey: { keyId: string } } };
    config.controlPlane.jobSigningKey.keyId = '0000000000000000';
    await site.writeConfig(config);

    expect(await exitCodeOfRun()).toBe(2);
    expect(stderrOf(children, 'agent')).toContain('controlPlane.jobSigningKey.keyId');
  });

  it('exits 2 on a missing CA file', async () => {
    const config = site.baseConfig() as { controlPlane: Record<string, unknown> };
    config.controlPlane.caFile = path.join(site.dir, 'missing-ca.pem');
    await site.writeConfig(config);

    expect(await exitCodeOfRun()).toBe(2);
    expect(stderrOf(children, 'agent')).toContain('CONFIG_INVALID');
  });

  it('refuses a public status address without token', async () => {
    const status = { listen: '192.0.2.10:9181' };
    await site.writeConfig({ status });

    expect(await exitCodeOfRun()).toBe(2);
    expect(stderrOf(children, 'agent')).toContain('CONFIG_INVALID');
    expect(stderrOf(children, 'agent')).toContain('status.tokenFile');
  });

  it('exits 1 with the code of a locked store', async () => {
    await site.writeConfig();
    const holder = Store.open(path.join(site.dir, 'agent.db'));
    try {
      expect(await exitCodeOfRun()).toBe(1);
    } finally {
      holder.close();
    }

    expect(stderrOf(children, 'agent')).toMatch(/^edge-agent run: STORE_LOCKED: /m);
    expect(logRecords(children, 'agent').at(-1)?.msg).toBe('agent not started');
  });

  it('exits 1 with the code of a corrupt store', async () => {
    const storePath = path.join(site.dir, 'corrupt.db');
    await writeFile(storePath, 'this is not a SQLite database, only text'.repeat(200));
    await site.writeConfig({ store: { path: storePath } });

    expect(await exitCodeOfRun()).toBe(1);
    expect(stderrOf(children, 'agent')).toMatch(/^edge-agent run: STORE_CORRUPT: /m);
  });

  it('exits 1 when the status port is in use', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    await site.writeConfig({
      store: { path: 'port-in-use.db' },
      status: { listen: `127.0.0.1:${port}` },
    });
    try {
      expect(await exitCodeOfRun()).toBe(1);
    } finally {
      holder.close();
    }

    expect(stderrOf(children, 'agent')).toMatch(/^edge-agent run: LISTEN_FAILED: /m);
  });

  it('logs the bound status URL', async () => {
    await site.writeConfig({ store: { path: 'status-url.db' }, status: { listen: '127.0.0.1:0' } });
    children = new ChildProcesses();
    startDaemon(children, 'agent', site.configFile);

    const record = await waitForLog(children, 'agent', 'status endpoint listening');
    const response = await fetch(`${String(record.url)}/readyz`);

    expect(response.status).toBe(200);
  });

  it('logs the start with versions and counts', async () => {
    await site.writeConfig({ store: { path: 'start-line.db' } });
    children = new ChildProcesses();
    startDaemon(children, 'agent', site.configFile);

    const record = await waitForLog(children, 'agent', 'agent started');

    expect(record.version).toBe('0.1.0');
    expect(record.nodeVersion).toBe(process.version);
    expect(record.siteId).toBe(site.siteId);
    expect(record.devices).toBe(1);
    expect(record.interruptedRuns).toBe(0);
    expect(record.unfinishedJobs).toBe(0);
  });
});

describe('edge-agent run crashes', () => {
  it('exits 1 on an unhandled rejection', async () => {
    await site.writeConfig({ store: { path: 'crash.db' } });
    const preload = path.join(import.meta.dirname, 'reject-after-start.mjs');
    children = new ChildProcesses({ launcher: launcherWithPreload(preload) });
    startDaemon(children, 'agent', site.configFile);
    await waitForLog(children, 'agent', 'agent started');
    children.signal('agent', 'SIGUSR2');

    expect(await children.exited('agent')).toBe(1);
    const fatal = logRecords(children, 'agent').find((record) => record.level === 60);
    expect(fatal?.msg).toBe('unhandled rejection');
    expect((fatal?.err as { message?: string } | undefined)?.message).toBe('injected failure');
  });
});
