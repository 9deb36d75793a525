import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type AgentSite, startAgentSite, statusGet, waitUntil } from '../support/agent-site.js';
import {
  ChildProcesses,
  daemonStatusUrl,
  logRecords,
  startDaemon,
  waitForLog,
} from '../support/daemon.js';

type StatusBody = {
  devices: Array<{ id: string }>;
  runningRuns: number;
  uplink: { connected: boolean };
};

let site: AgentSite;
let children: ChildProcesses;
let statusUrl: string;
/** Both simulated devices as the simulator lists them. */
let inventory: Array<Record<string, unknown>>;

const status = async (): Promise<StatusBody> =>
  (await statusGet(statusUrl, '/status')).body as StatusBody;

const deviceIds = async (): Promise<string[]> => (await status()).devices.map((d) => d.id);

beforeAll(async () => {
  site = await startAgentSite([{ id: 'r1' }, { id: 'r2' }]);
  inventory = site.baseConfig().devices as Array<Record<string, unknown>>;
  await site.writeConfig({ devices: inventory.slice(0, 1) });
  children = new ChildProcesses();
  startDaemon(children, 'agent', site.configFile);
  statusUrl = await daemonStatusUrl(children, 'agent');
  await waitUntil(async () => (await status()).uplink.connected, 10_000, 'uplink connection');
}, 60_000);

afterAll(async () => {
  await children?.stopAll();
  await site?.stop();
});

describe('edge-agent run on SIGHUP', () => {
  it('applies a valid inventory', async () => {
    await site.writeConfig({ devices: inventory });

    children.signal('agent', 'SIGHUP');
    const record = await waitForLog(children, 'agent', 'inventory reloaded');

    expect(record.added).toEqual(['r2']);
    expect(record.removed).toEqual([]);
    expect(await deviceIds()).toEqual(['r1', 'r2']);
  });

  it('keeps the inventory on invalid file', async () => {
    await site.writeConfig({ devices: [{ id: 'not valid!', host: '127.0.0.1' }] });

    children.signal('agent', 'SIGHUP');
    const record = await waitForLog(children, 'agent', 'reload failed; inventory unchanged');
    const readiness = (await statusGet(statusUrl, '/readyz')).body as {
      ready: boolean;
      config: { reloadError: { code: string } | null };
    };

    expect((record.err as { code?: string }).code).toBe('CONFIG_INVALID');
    expect(await deviceIds()).toEqual(['r1', 'r2']);
    expect(readiness.ready).toBe(true);
    expect(readiness.config.reloadError?.code).toBe('CONFIG_INVALID');
    expect(children.exitCode('agent')).toBeNull();
  });

  it('keeps running runs through a reload', async () => {
    const scriptId = await site.launchScript(':delay 2s\r\n:put "survived the reload"');
    await waitUntil(async () => (await status()).runningRuns === 2, 10_000, 'runs start');
    await site.writeConfig({ devices: inventory.slice(0, 1) });

    children.signal('agent', 'SIGHUP');
    await waitUntil(() => reloads().length === 2, 10_000, 'second reload');
    await waitUntil(async () => (await job(scriptId)).job.verdict !== 'pending', 15_000, 'verdict');
    const { runs } = await job(scriptId);

    expect(reloads()[1]?.removed).toEqual(['r2']);
    expect(await deviceIds()).toEqual(['r1']);
    expect(runs.map((run) => [run.deviceId, run.state])).toEqual([
      ['r1', 'succeeded'],
      ['r2', 'succeeded'],
    ]);
    expect(runs[1]?.output).toContain('survived the reload');
  });

  it('warns of a missing password file', async () => {
    const [first, second] = inventory;
    await site.writeConfig({
      devices: [
        first,
        { ...second, passwordFile: 'missing-password', passwordCredential: undefined },
      ],
    });

    children.signal('agent', 'SIGHUP');
    const warning = await waitForLog(
      children,
      'agent',
      'some device secrets cannot be used; runs on them will fail',
    );
    await waitUntil(() => reloads().length === 3, 10_000, 'third reload');

    expect((warning.err as { code?: string }).code).toBe('SECRET_UNREADABLE');
    expect(await deviceIds()).toEqual(['r1', 'r2']);
  });
});

describe('edge-agent run after a reload', () => {
  it('reads device secrets again', async () => {
    const [first, second] = inventory;
    const rotated = path.join(site.dir, 'secrets', 'r2-password');
    await writeFile(rotated, await readFile(String(second?.passwordFile)), { mode: 0o600 });
    await site.writeConfig({ devices: [first, { ...second, passwordFile: rotated }] });
    await reload(4);
    const before = await finishedRuns(await site.launchScript(':put "before the rotation"'));
    await writeFile(rotated, 'not-the-password\n');

    await reload(5);
    const after = await finishedRuns(await site.launchScript(':put "after the rotation"'));

    expect(before[1]?.state).toBe('succeeded');
    expect(after[1]?.reasonCode).toBe('AUTH_FAILED');
  });
});

describe('edge-agent run reloading repeatedly', () => {
  it('recovers from a YAML syntax error', async () => {
    await writeFile(site.configFile, 'siteId: [unclosed\n');

    children.signal('agent', 'SIGHUP');
    await waitUntil(() => failures().length === 2, 10_000, 'second failed reload');
    const error = failures()[1]?.err as { code?: string; details?: { problems?: unknown } };
    await site.writeConfig({ devices: inventory.slice(0, 1) });
    await reload(6);

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.details?.problems).toEqual([expect.objectContaining({ path: '(file)' })]);
    expect(await deviceIds()).toEqual(['r1']);
  });

  it('applies many reloads in a row', async () => {
    const changes: Array<[unknown, unknown]> = [];
    for (let index = 0; index < 8; index += 1) {
      await site.writeConfig({ devices: index % 2 === 0 ? inventory : inventory.slice(0, 1) });
      await reload(7 + index);
      changes.push([reloads()[6 + index]?.added, reloads()[6 + index]?.removed]);
    }

    expect(changes).toEqual(
      Array.from({ length: 4 }, () => [
        [['r2'], []],
        [[], ['r2']],
      ]).flat(),
    );
    expect(await deviceIds()).toEqual(['r1']);
    expect(children.exitCode('agent')).toBeNull();
  });
});

/** Returns the `reload failed; inventory unchanged` log records so far. */
function failures(): Array<Record<string, unknown>> {
  return logRecords(children, 'agent').filter(
    (record) => record.msg === 'reload failed; inventory unchanged',
  );
}

/** Sends SIGHUP and waits until the agent logged its `count`th `inventory reloaded`. */
async function reload(count: number): Promise<void> {
  children.signal('agent', 'SIGHUP');
  await waitUntil(() => reloads().length === count, 10_000, `reload number ${count}`);
}

/** Waits for the verdict of a job and returns its runs, r1 first. */
async function finishedRuns(scriptId: string): Promise<Awaited<ReturnType<typeof job>>['runs']> {
  await waitUntil(async () => (await job(scriptId)).job.verdict !== 'pending', 15_000, 'verdict');
  return (await job(scriptId)).runs;
}

/** Returns the `inventory reloaded` log records so far. */
function reloads(): Array<Record<string, unknown>> {
  return logRecords(children, 'agent').filter((record) => record.msg === 'inventory reloaded');
}

async function job(scriptId: string): Promise<{
  job: { verdict: string };
  runs: Array<{
    deviceId: string;
    state: string;
    reasonCode: string | null;
    output: string | null;
  }>;
}> {
  return (await statusGet(statusUrl, `/jobs/${scriptId}`)).body as Awaited<ReturnType<typeof job>>;
}
