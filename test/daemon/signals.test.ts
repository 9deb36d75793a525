import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type AgentSite, startAgentSite, statusGet, waitUntil } from '../support/agent-site.js';
import { apiRequest } from '../support/control-plane.js';
import {
  ChildProcesses,
  daemonStatusUrl,
  launcherWithPreload,
  logRecords,
  startDaemon,
  waitForLog,
} from '../support/daemon.js';

/** RouterOS kills a container about this long after asking it to stop. */
const ROUTEROS_STOP_LIMIT_MS = 10_000;

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

/**
 * Starts a daemon on a store of its own with `shutdownDrainMs` and a command timeout (default
 * 2 s); resolves once it is connected.
 */
async function startConnected(
  name: string,
  store: string,
  drainMs: number,
  commandTimeoutMs = 2000,
): Promise<string> {
  await site.writeConfig({
    store: { path: store },
    runs: { connectTimeoutMs: 2000, commandTimeoutMs, shutdownDrainMs: drainMs },
  });
  startDaemon(children, name, site.configFile);
  const statusUrl = await daemonStatusUrl(children, name);
  await waitUntil(
    async () =>
      ((await statusGet(statusUrl, '/status')).body as { uplink: { connected: boolean } }).uplink
        .connected,
    10_000,
    'uplink connection',
  );
  return statusUrl;
}

/** Launches `script` and resolves once its run on r1 is executing. */
async function launchAndWaitRunning(statusUrl: string, script: string): Promise<string> {
  const scriptId = await site.launchScript(script);
  await waitUntil(
    async () =>
      ((await statusGet(statusUrl, '/status')).body as { runningRuns: number }).runningRuns === 1,
    10_000,
    'run start',
  );
  return scriptId;
}

/** Sends `signal` to child `name` and resolves with its exit code and the time it took. */
async function stopWith(
  name: string,
  signal: NodeJS.Signals,
): Promise<{ exitCode: number | null; elapsedMs: number }> {
  const stoppedAt = Date.now();
  children.signal(name, signal);
  const exitCode = await children.exited(name);
  return { exitCode, elapsedMs: Date.now() - stoppedAt };
}

/** Returns the control plane's record of the run on r1. */
async function recordedRun(
  scriptId: string,
): Promise<{ state: string; error_code: string | null }> {
  const token = await site.controlPlane.token();
  const detail = await apiRequest(
    site.controlPlane,
    'GET',
    `/scripts/scheduled/${scriptId}/sites/${site.siteId}`,
    { token },
  );
  const devices = (detail.body as { devices: Array<{ state: string; error_code: string | null }> })
    .devices;
  return devices[0] ?? { state: 'missing', error_code: null };
}

/**
 * Starts a daemon that sends itself `signal` while its modules load, waits for `untilMessage` if
 * given, else for the exit, and returns the messages it logged.
 */
async function runSignalledWhileLoading(
  signal: NodeJS.Signals,
  untilMessage?: string,
): Promise<string[]> {
  const preload = path.join(import.meta.dirname, 'signal-while-loading.mjs');
  process.env.EDGE_TEST_SIGNALS = signal;
  try {
    children = new ChildProcesses({ launcher: launcherWithPreload(preload) });
    startDaemon(children, 'agent', site.configFile);
  } finally {
    delete process.env.EDGE_TEST_SIGNALS;
  }

  if (untilMessage === undefined) {
    await children.exited('agent');
  } else {
    await waitForLog(children, 'agent', untilMessage);
  }

  return logRecords(children, 'agent').map((record) => String(record.msg));
}

describe('edge-agent run on SIGTERM', () => {
  it('lets a short run finish and reports it', async () => {
    children = new ChildProcesses();
    const statusUrl = await startConnected('agent', 'drain.db', 5000);
    const scriptId = await launchAndWaitRunning(statusUrl, ':delay 1500ms\r\n:put "drained"');

    const { exitCode, elapsedMs } = await stopWith('agent', 'SIGTERM');

    expect(exitCode).toBe(0);
    expect(elapsedMs).toBeLessThan(ROUTEROS_STOP_LIMIT_MS);
    expect((await recordedRun(scriptId)).state).toBe('succeeded');
  });

  it('interrupts a run past the drain time', async () => {
    children = new ChildProcesses();
    const statusUrl = await startConnected('agent', 'interrupt.db', 1000);
    const scriptId = await launchAndWaitRunning(statusUrl, ':delay 30s\r\n:put "too late"');

    const { exitCode, elapsedMs } = await stopWith('agent', 'SIGTERM');

    expect(exitCode).toBe(0);
    expect(elapsedMs).toBeLessThan(ROUTEROS_STOP_LIMIT_MS);
    expect(await recordedRun(scriptId)).toMatchObject({
      state: 'interrupted',
      error_code: 'INTERRUPTED',
    });
    const stopped = logRecords(children, 'agent').find((record) => record.msg === 'agent stopped');
    expect(stopped?.interruptedRuns).toBe(1);
  });
});

describe('edge-agent run on SIGTERM with a hung device', () => {
  afterEach(() => {
    site.fleet.device('r1').faults.clear();
  });

  it('aborts the hung run at once', async () => {
    children = new ChildProcesses();
    const statusUrl = await startConnected('agent', 'hung.db', 500, 30_000);
    site.fleet.device('r1').faults.enable('hang');
    const scriptId = await launchAndWaitRunning(statusUrl, ':put "never answered"');

    const { exitCode, elapsedMs } = await stopWith('agent', 'SIGTERM');
    const messages = logRecords(children, 'agent').map((record) => String(record.msg));

    expect(exitCode).toBe(0);
    // Well under the 30 s command timeout the hung read would otherwise wait for.
    expect(elapsedMs).toBeLessThan(5000);
    expect(messages).not.toContain('handles still open after the stop; exiting');
    expect((await recordedRun(scriptId)).state).not.toBe('running');
  });
});

describe('edge-agent run on other signals', () => {
  it('stops cleanly on SIGINT', async () => {
    children = new ChildProcesses();
    await startConnected('agent', 'sigint.db', 1000);

    const { exitCode } = await stopWith('agent', 'SIGINT');

    expect(exitCode).toBe(0);
    expect(logRecords(children, 'agent').at(-1)?.msg).toBe('agent stopped');
  });

  it('stops cleanly when signalled while starting', async () => {
    await site.writeConfig({ store: { path: 'starting.db' } });
    const preload = path.join(import.meta.dirname, 'term-when-listening.mjs');
    children = new ChildProcesses({ launcher: launcherWithPreload(preload) });
    startDaemon(children, 'agent', site.configFile);

    expect(await children.exited('agent')).toBe(0);
    const messages = logRecords(children, 'agent').map((record) => record.msg);
    expect(messages).toContain('agent started');
    expect(messages.at(-1)).toBe('agent stopped');
  });

  it('stops after start on SIGTERM while loading', async () => {
    await site.writeConfig({ store: { path: 'loading-term.db' } });
    const messages = await runSignalledWhileLoading('SIGTERM');

    expect(children.exitCode('agent')).toBe(0);
    expect(messages).toContain('agent started');
    expect(messages.at(-1)).toBe('agent stopped');
  });

  it('reloads after start on SIGHUP while loading', async () => {
    await site.writeConfig({ store: { path: 'loading-hup.db' } });
    const messages = await runSignalledWhileLoading('SIGHUP', 'inventory reloaded');

    expect(messages.indexOf('agent started')).toBeGreaterThan(-1);
    expect(messages.indexOf('inventory reloaded')).toBeGreaterThan(
      messages.indexOf('agent started'),
    );
  });

  it('exits at once on a second signal', async () => {
    children = new ChildProcesses();
    const statusUrl = await startConnected('agent', 'second.db', 8000);
    const scriptId = await launchAndWaitRunning(statusUrl, ':delay 30s\r\n:put "too late"');
    children.signal('agent', 'SIGTERM');
    await waitForLog(children, 'agent', 'agent stopping');

    const { exitCode, elapsedMs } = await stopWith('agent', 'SIGINT');

    expect(exitCode).toBe(130);
    expect(elapsedMs).toBeLessThan(2000);

    // The next start finds the run still marked running, marks it interrupted and reports it.
    const restarted = await startConnected('agent-2', 'second.db', 1000);
    const started = await waitForLog(children, 'agent-2', 'agent started');
    expect(started.interruptedRuns).toBe(1);
    expect(restarted).toMatch(/^http:/);
    await waitUntil(
      async () => (await recordedRun(scriptId)).state === 'interrupted',
      10_000,
      'interrupted run reported',
    );
  });
});
