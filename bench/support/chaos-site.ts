import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { stringify } from 'yaml';

import { generateSiteToken } from '../../src/control-plane/secrets.js';
import type { DeviceConfig } from '../../src/devices/types.js';
import { ChaosControlPlane, type SigningKey } from './chaos-control-plane.js';
import { Program, READY_TIMEOUT_MS, sleep } from './chaos-program.js';
import { unitNodeOptions } from './daemon.js';

/** Settings of the site that a seed chooses. */
export type SiteSettings = {
  /** The control plane's `delivery.leadSeconds`. */
  leadSeconds: number;
  /** Directory of the agent's store; default the site's directory. */
  storeDir?: string;
  /** The agent's `runs` section. */
  runs: {
    concurrency: number;
    connectTimeoutMs: number;
    commandTimeoutMs: number;
    runTimeoutMs: number;
    shutdownDrainMs: number;
  };
};

/** `/status` of the agent, the fields the driver reads. */
export type AgentStatus = {
  uplink: { connected: boolean };
  queueDepth: number;
  runningRuns: number;
  outboxDepth: number;
};

/**
 * The control plane (`edge-control-plane serve`) and the agent (`edge-agent run`) of one site,
 * each a child process that the driver stops, kills and starts again. Their files live in
 * `dir`, and the agent's output goes to `agent.log` there.
 */
export class ChaosSite {
  readonly dir: string;

  readonly siteId = randomUUID();

  readonly controlPlane: ChaosControlPlane;

  agent: Program | undefined;

  /** Status endpoint of the running agent. */
  statusUrl = '';

  /**
   * Stops the driver did not expect: an agent that exited by itself, or a SIGTERM stop that did
   * not exit 0. The site starts such an agent again, as systemd's `Restart=` would.
   */
  readonly surprises: string[] = [];

  /**
   * True while the fault loop keeps the store's file system full. An agent start then often
   * fails with STORE_FULL and exit code 1, which its service manager retries. Such exits are
   * counted in `fullDiskExits` instead of `surprises`.
   */
  diskFull = false;

  fullDiskExits = 0;

  private readonly settings: SiteSettings;

  /** Set by `close`; no agent starts afterwards. */
  private closed = false;

  /** The agent start in progress, which `ensureAgent` callers share; undefined when none. */
  private starting: Promise<void> | undefined;

  private readonly siteToken: string;

  private constructor(dir: string, settings: SiteSettings) {
    this.dir = dir;
    this.settings = settings;
    this.siteToken = generateSiteToken();
    this.controlPlane = new ChaosControlPlane(
      dir,
      { siteId: this.siteId, siteToken: this.siteToken, leadSeconds: settings.leadSeconds },
      (line) => this.surprises.push(line),
    );
  }

  /** Starts the control plane and writes the agent's configuration for `devices`. */
  static async start(
    dir: string,
    settings: SiteSettings,
    devices: readonly DeviceConfig[],
  ): Promise<ChaosSite> {
    const site = new ChaosSite(dir, settings);
    await mkdir(path.join(dir, 'secrets'), { recursive: true });
    await writeFile(path.join(dir, 'secrets', 'site-token'), `${site.siteToken}\n`, {
      mode: 0o600,
    });
    const key = await site.controlPlane.start();
    await site.writeAgentConfig(key, devices);
    return site;
  }

  get storeFile(): string {
    return path.join(this.settings.storeDir ?? this.dir, 'agent.db');
  }

  /**
   * Starts the agent unless it runs, as the systemd unit does, and resolves once its status
   * endpoint listens. A start that fails is recorded in `surprises` and tried again every
   * 2 seconds for a minute, which outlasts every fault the loop injects. Concurrent calls share
   * one start.
   */
  ensureAgent(): Promise<void> {
    if (this.closed) {
      return Promise.resolve();
    }

    this.starting ??= this.startWithRetries().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startWithRetries(): Promise<void> {
    for (let attempt = 1; this.agent === undefined; attempt++) {
      try {
        await this.startAgent();
      } catch (error) {
        if (!this.diskFull) {
          this.surprises.push(`${new Date().toISOString()}: agent start failed: ${error}`);
        }

        // startAgent set `agent` before it failed; TypeScript cannot see that assignment.
        const failed = this.agent as Program | undefined;
        this.agent = undefined;
        failed?.signal('SIGKILL');
        await failed?.exited;
        if (attempt >= 30) {
          throw error;
        }

        await sleep(2_000);
      }
    }
  }

  /** Starts `edge-agent run` with the node options of the systemd unit. */
  private spawnAgent(): Program {
    return new Program(
      'src/cli/edge-agent',
      ['run', '--config', path.join(this.dir, 'agent.yaml')],
      path.join(this.dir, 'agent.log'),
      unitNodeOptions(),
    );
  }

  private async startAgent(): Promise<void> {
    this.statusUrl = '';
    const agent = this.spawnAgent();
    this.agent = agent;
    void agent.exited.then((code) => this.onAgentExit(agent, code));
    const match = await agent.waitForLine(
      /^(?=.*"msg":"status endpoint listening").*"url":"([^"]+)"/,
      READY_TIMEOUT_MS,
    );
    this.statusUrl = match[1] ?? '';
  }

  /**
   * Sends `signal` to the agent, and `followUp.signal` `followUp.afterMs` later when given, and
   * resolves with its exit code once it has exited. An exit code outside `expected` (default:
   * 0 after SIGTERM, the signal itself otherwise) is recorded in `surprises`.
   */
  async stopAgent(
    signal: NodeJS.Signals,
    options: {
      expected?: ReadonlyArray<number | string>;
      followUp?: { signal: NodeJS.Signals; afterMs: number };
    } = {},
  ): Promise<number | string | undefined> {
    await this.starting?.catch(() => undefined);
    const agent = this.agent;
    if (agent === undefined) {
      return undefined;
    }

    this.agent = undefined;
    this.statusUrl = '';
    agent.signal(signal);
    if (options.followUp !== undefined) {
      await sleep(options.followUp.afterMs);
      agent.signal(options.followUp.signal);
    }

    const code = await agent.exited;
    const expected = options.expected ?? (signal === 'SIGTERM' ? [0] : [signal]);
    if (!expected.includes(code)) {
      this.surprises.push(
        `${new Date().toISOString()}: agent stopped with ${signal} exited ${code}`,
      );
    }

    return code;
  }

  /**
   * Stops the running agent, starts a new one and sends it `signal` `afterMs` after the spawn,
   * whether or not its start has finished, then starts the agent again. A SIGTERM before Node
   * runs the agent's first line ends the process by the signal, as docs/operations.md describes.
   */
  async interruptStart(signal: NodeJS.Signals, afterMs: number): Promise<number | string> {
    await this.stopAgent('SIGTERM');
    const early = this.spawnAgent();
    await sleep(afterMs);
    early.signal(signal);
    const code = await early.exited;
    const expected = signal === 'SIGTERM' ? [0, 'SIGTERM'] : [signal];
    if (code === 1 && this.diskFull) {
      this.fullDiskExits += 1;
    } else if (!expected.includes(code)) {
      this.surprises.push(
        `${new Date().toISOString()}: agent sent ${signal} ${afterMs} ms after its spawn exited ${code}`,
      );
    }

    await this.ensureAgent();
    return code;
  }

  /** Records an agent that exited without being stopped and starts it again after a second. */
  private onAgentExit(agent: Program, code: number | string): void {
    if (this.agent !== agent) {
      return;
    }

    this.agent = undefined;
    this.statusUrl = '';
    if (code === 1 && this.diskFull) {
      this.fullDiskExits += 1;
    } else {
      this.surprises.push(`${new Date().toISOString()}: agent exited by itself with ${code}`);
    }

    setTimeout(() => {
      this.ensureAgent().catch((error: unknown) => {
        this.surprises.push(`${new Date().toISOString()}: agent restart failed: ${error}`);
      });
    }, 1_000);
  }

  async agentStatus(): Promise<AgentStatus | undefined> {
    if (this.agent === undefined || this.statusUrl === '') {
      return undefined;
    }

    try {
      const response = await fetch(`${this.statusUrl}/status`);
      return response.ok ? ((await response.json()) as AgentStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kills the agent and stops the control plane; nothing starts the agent afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopAgent('SIGKILL').catch(() => undefined);
    await this.controlPlane.stop();
  }

  /** Calls the control plane's Scripts API; see `ChaosControlPlane.api`. */
  api(
    method: string,
    pathname: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    return this.controlPlane.api(method, pathname, body);
  }

  private async writeAgentConfig(key: SigningKey, devices: readonly DeviceConfig[]): Promise<void> {
    const config = {
      siteId: this.siteId,
      logLevel: 'info',
      controlPlane: {
        url: this.controlPlane.agentUrl,
        tokenFile: 'secrets/site-token',
        allowInsecure: true,
        jobSigningKey: key,
      },
      runs: this.settings.runs,
      status: { listen: '127.0.0.1:0' },
      store: { path: this.storeFile },
      devices,
    };
    await writeFile(path.join(this.dir, 'agent.yaml'), stringify(config));
  }
}
