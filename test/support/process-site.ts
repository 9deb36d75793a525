import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

import { ChildProcesses } from '../../src/demo/children.js';
import { FINAL_RUN_STATES, type RunState } from '../../src/jobs/types.js';
import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetDeviceOptions } from '../../src/simulator/fleet/options.js';
import type { ApiRow } from '../../src/simulator/model/types.js';
import { agentConfig, statusGet, waitUntil, writeAgentSecrets } from './agent-site.js';
import { makeTestSites } from './control-plane.js';
import { ControlPlaneProcess, type SiteDetail } from './control-plane-process.js';
import { daemonStatusUrl, startDaemon } from './daemon.js';

/** The log message a `markedScript` writes on the device first. */
const RUN_MARK = 'e2e script run';

/** Joins script lines after one that logs RUN_MARK, which `ProcessSite.scriptRuns` counts. */
export function markedScript(...lines: string[]): string {
  return [`:log info "${RUN_MARK}"`, ...lines].join('\r\n');
}

/**
 * Returns a `markedScript` that waits `delay` (RouterOS time, such as `1s` or `1500ms`) before
 * it prints `done`, so that runs overlap with whatever a test does meanwhile.
 */
export function delayedScript(delay: string): string {
  return markedScript(`:delay ${delay}`, ':put "done"');
}

/** Counts the entries whose `state` is final: `succeeded`, `failed`, `interrupted`, ... */
export function finalCount(runs: ReadonlyArray<{ state: string }>): number {
  return runs.filter((run) => FINAL_RUN_STATES.has(run.state as RunState)).length;
}

/** Device, state and revision of each run, by device id: the fields both sides must agree on. */
export type RunSummary = { deviceId: string; state: string; revision: number };

/** Returns the agent's runs as `RunSummary`s, sorted by device id. */
export function agentRunSummaries(runs: readonly AgentRun[]): RunSummary[] {
  return runs
    .map(({ deviceId, state, revision }) => ({ deviceId, state, revision }))
    .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
}

/** Returns the control plane's device results as `RunSummary`s, sorted by device id. */
export function recordedRunSummaries(detail: SiteDetail): RunSummary[] {
  return detail.devices
    .map((result) => ({
      deviceId: result.device_id,
      state: result.state,
      revision: result.revision,
    }))
    .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
}

/** Options of `ProcessSite.start`. */
export type ProcessSiteOptions = {
  /** Heartbeat interval the control plane gives the agent, in seconds; default 30. */
  heartbeatIntervalSeconds?: number;
  /** The agent's `runs.concurrency`; default the agent's own. */
  concurrency?: number;
};

/** Fleet entries `r1`, `r2`, ... reached in turn over the API, API-SSL and SSH. */
export function mixedFleet(count: number): FleetDeviceOptions[] {
  const transports = ['api', 'api-ssl', 'ssh'] as const;
  return Array.from({ length: count }, (_, index) => ({
    id: `r${index + 1}`,
    transport: transports[index % transports.length] ?? 'api',
  }));
}

/**
 * Time an end-to-end test gets, in milliseconds: above the sum of its own waits, so that a
 * wait that runs out reports what it waited for.
 */
export const TEST_TIMEOUT_MS = 90_000;

/** Time a started agent gets to connect to its control plane, in milliseconds. */
const CONNECT_TIMEOUT_MS = 15_000;

/** `/status` of the agent, as far as these tests read it. */
export type AgentStatus = {
  uplink: { connected: boolean; state: string; unacknowledgedEvents: number };
  queueDepth: number;
  runningRuns: number;
  outboxDepth: number;
};

/** One run of `/jobs/{id}` of the agent's status endpoint. */
export type AgentRun = {
  deviceId: string;
  state: string;
  revision: number;
  reasonCode: string | null;
  output: string | null;
};

/**
 * A whole site as separate processes on loopback: `edge-control-plane serve` and
 * `edge-agent run` as children, and a simulated fleet in this process, so that tests can count
 * each device's script runs. One directory contains every file; `stop` ends the children,
 * the fleet and the directory.
 */
export class ProcessSite {
  readonly children = new ChildProcesses();

  readonly dir: string;

  readonly siteId: string;

  /** Set by `start`; absent only when a start failed half way. */
  controlPlane!: ControlPlaneProcess;

  fleet!: Fleet;

  /** Status URL of the newest agent started. */
  statusUrl = '';

  private readonly siteToken: string;

  private readonly options: ProcessSiteOptions;

  /** Agent hub URL of the agent configuration; the control plane's unless `routeAgentVia`. */
  private hubUrl: string | undefined;

  private constructor(dir: string, options: ProcessSiteOptions) {
    this.dir = dir;
    this.options = options;
    const [site] = makeTestSites(1);
    if (site === undefined) {
      throw new Error('makeTestSites made no site');
    }

    this.siteId = site.id;
    this.siteToken = site.token;
  }

  /**
   * Starts the control plane and the fleet, and writes the agent's secrets and configuration.
   * Whatever started is stopped again when a later step fails.
   */
  static async start(
    devices: FleetDeviceOptions[],
    options: ProcessSiteOptions = {},
  ): Promise<ProcessSite> {
    const site = new ProcessSite(await mkdtemp(path.join(os.tmpdir(), 'edge-e2e-')), options);
    try {
      site.controlPlane = await ControlPlaneProcess.start(site.children, {
        dir: await site.subdirectory('control-plane'),
        sites: site.sites,
        ...(options.heartbeatIntervalSeconds === undefined
          ? {}
          : { heartbeatIntervalSeconds: options.heartbeatIntervalSeconds }),
      });
      site.fleet = await startFleet({ fleet: devices });
      await writeAgentSecrets(site.dir, site.siteToken);
      await site.writeConfig();
      return site;
    } catch (error) {
      await site.stop();
      throw error;
    }
  }

  /** The site with its clear-text token, as control-plane configurations list it. */
  get sites() {
    return [{ id: this.siteId, name: 'e2e site', token: this.siteToken }];
  }

  get configFile(): string {
    return path.join(this.dir, 'agent.yaml');
  }

  get storeFile(): string {
    return path.join(this.dir, 'agent.db');
  }

  /** Makes a directory under the site's directory and returns its path. */
  async subdirectory(name: string): Promise<string> {
    return mkdtemp(path.join(this.dir, `${name}-`));
  }

  /** Returns the agent configuration for the control plane and the fleet. */
  baseConfig(): Record<string, unknown> {
    const { agentUrl, key } = this.controlPlane.endpoints;
    const config = agentConfig(
      { siteId: this.siteId, agentUrl: this.hubUrl ?? agentUrl, ...key },
      this.fleet.inventory(),
    );
    if (this.options.concurrency !== undefined) {
      config.runs = { ...(config.runs as object), concurrency: this.options.concurrency };
    }

    return config;
  }

  /**
   * Rewrites the agent configuration to reach the agent hub through `port` on 127.0.0.1, where
   * a proxy listens; agents started afterwards use it.
   */
  async routeAgentVia(port: number): Promise<void> {
    const url = new URL(this.controlPlane.endpoints.agentUrl);
    url.port = String(port);
    this.hubUrl = url.href;
    await this.writeConfig();
  }

  /** Writes the agent configuration, with `overrides` replacing top-level sections. */
  async writeConfig(overrides: Record<string, unknown> = {}): Promise<void> {
    await writeFile(this.configFile, stringify({ ...this.baseConfig(), ...overrides }));
  }

  /** Starts `edge-agent run` as child `name` and resolves once it is connected. */
  async startAgent(name = 'agent'): Promise<void> {
    startDaemon(this.children, name, this.configFile);
    this.statusUrl = await daemonStatusUrl(this.children, name);
    await this.waitForUplink();
  }

  /** Resolves once the agent's link to the control plane is up. */
  waitForUplink(timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
    return waitUntil(
      async () => (await this.agentStatus()).uplink.connected,
      timeoutMs,
      'agent connection to the control plane',
    );
  }

  /**
   * Resolves once the agent's outbox is empty: every status acknowledged. The last
   * acknowledgements may still be on their way when the control plane has recorded a verdict.
   */
  waitForOutboxEmpty(timeoutMs = 10_000): Promise<void> {
    return waitUntil(
      async () => (await this.agentStatus()).outboxDepth === 0,
      timeoutMs,
      'every status acknowledged',
    );
  }

  async agentStatus(): Promise<AgentStatus> {
    return (await statusGet(this.statusUrl, '/status')).body as AgentStatus;
  }

  /** Returns the agent's runs of job `jobId`, read from its status endpoint. */
  async agentRuns(jobId: string): Promise<AgentRun[]> {
    const response = await statusGet(this.statusUrl, `/jobs/${jobId}`);
    return (response.body as { runs?: AgentRun[] }).runs ?? [];
  }

  /** Creates `script` for this site through the Scripts API, authorizes it and launches it. */
  launchScript(script: string): Promise<string> {
    return this.controlPlane.launchScript(script, [this.siteId]);
  }

  /** `GET /scripts/scheduled/{id}/sites/{siteId}` for this site. */
  siteDetail(scriptId: string): Promise<SiteDetail> {
    return this.controlPlane.siteDetail(scriptId, this.siteId);
  }

  /** See `ControlPlaneProcess.progress`. */
  progress(scriptId: string): ReturnType<ControlPlaneProcess['progress']> {
    return this.controlPlane.progress(scriptId);
  }

  /** See `ControlPlaneProcess.progressUntilDone`. */
  progressUntilDone(
    scriptId: string,
    timeoutMs: number,
  ): ReturnType<ControlPlaneProcess['progressUntilDone']> {
    return this.controlPlane.progressUntilDone(scriptId, timeoutMs);
  }

  /**
   * Counts how often each simulated device ran a script made by `markedScript`, by device id. The
   * device's `executions` counter is not used because it also counts the script with which the
   * SSH transport reads a device's version and identity at every login.
   */
  async scriptRuns(): Promise<Record<string, number>> {
    const counts = await Promise.all(
      this.fleet.devices.map(async (device) => {
        const rows: ApiRow[] = [];
        await device.model.execute(
          { path: ['log'], command: 'print', attributes: [], queries: [] },
          { signal: new AbortController().signal, onRow: (row) => rows.push(row) },
        );
        const marks = rows.filter((row) =>
          row.some(([name, value]) => name === 'message' && value === RUN_MARK),
        );
        return [device.id, marks.length] as const;
      }),
    );
    return Object.fromEntries(counts);
  }

  /** Stops every child (SIGTERM, then SIGKILL), the fleet, and removes the directory. */
  async stop(): Promise<void> {
    // A control plane a failed test left frozen would ignore SIGTERM until the SIGKILL.
    this.controlPlane?.thaw();
    await this.children.stopAll();
    await this.fleet?.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
