import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { stringify } from 'yaml';

import { mintApiToken, SCOPES } from '../../src/control-plane/http/auth.js';
import {
  generateSiteToken,
  hashSiteToken,
  loadOrCreateJwtSecret,
} from '../../src/control-plane/secrets.js';
import type { DeviceConfig } from '../../src/devices/types.js';
import { Program } from './chaos-program.js';
import { unitNodeOptions } from './daemon.js';

/** Time a program gets to print that it is ready, in milliseconds. */
const READY_TIMEOUT_MS = 30_000;

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
 * `dir`; their output goes to `control-plane.log` and `agent.log` there.
 */
export class ChaosSite {
  readonly dir: string;

  readonly siteId = randomUUID();

  /** Base URL of the Scripts API, such as `http://127.0.0.1:40123`. */
  apiUrl = '';

  /** URL of the agent hub, which the agent's configuration names. */
  agentUrl = '';

  controlPlane: Program | undefined;

  agent: Program | undefined;

  /** Status endpoint of the running agent. */
  statusUrl = '';

  /**
   * Stops the driver did not expect: an agent that exited by itself, or a SIGTERM stop that did
   * not exit 0. The site starts such an agent again, as systemd's `Restart=` would.
   */
  readonly surprises: string[] = [];

  /**
   * True while the fault loop keeps the store's file system full. An agent that must mark
   * interrupted runs at start cannot then, so it exits 1 and its service manager starts it
   * again; such exits are counted in `fullDiskExits` instead of `surprises`.
   */
  diskFull = false;

  fullDiskExits = 0;

  private readonly siteToken = generateSiteToken();

  private readonly settings: SiteSettings;

  /** Port the control plane listens on; 0 until the first start, then kept across restarts. */
  private port = 0;

  private apiToken: string | undefined;

  /** The agent start in progress, which `ensureAgent` callers share; undefined when none. */
  private starting: Promise<void> | undefined;

  private constructor(dir: string, settings: SiteSettings) {
    this.dir = dir;
    this.settings = settings;
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
    const key = await site.startControlPlane();
    await site.writeAgentConfig(key, devices);
    return site;
  }

  get storeFile(): string {
    return path.join(this.settings.storeDir ?? this.dir, 'agent.db');
  }

  get controlPlaneDatabase(): string {
    return path.join(this.dir, 'control-plane.db');
  }

  /**
   * Stops the control plane with `signal`, waits `downMs` and starts it again on the same port.
   * A port that a client connection took meanwhile is retried for up to 10 seconds.
   */
  async restartControlPlane(signal: NodeJS.Signals, downMs: number): Promise<void> {
    const old = this.controlPlane;
    this.controlPlane = undefined;
    old?.signal(signal);
    await old?.exited;
    await sleep(downMs);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startControlPlane();
        return;
      } catch (error) {
        if (attempt >= 20) {
          throw error;
        }

        await sleep(500);
      }
    }
  }

  /**
   * Starts the agent unless it runs, as the systemd unit does, and resolves once its status
   * endpoint listens. A start that fails is recorded in `surprises` and tried again every
   * 2 seconds for a minute, which outlasts every fault the loop injects. Concurrent calls share
   * one start.
   */
  ensureAgent(): Promise<void> {
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

  /** Stops the control plane with SIGTERM. */
  async stopControlPlane(): Promise<void> {
    const program = this.controlPlane;
    this.controlPlane = undefined;
    program?.signal('SIGTERM');
    await program?.exited;
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
   * runs the agent's first line ends the process by the signal, as the operations guide says.
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

  /** Calls the Scripts API; returns the status and the parsed body. */
  async api(
    method: string,
    pathname: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    this.apiToken ??= await this.mintToken();
    const response = await fetch(`${this.apiUrl}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  private async mintToken(): Promise<string> {
    const secret = await loadOrCreateJwtSecret(path.join(this.dir, 'jwt.secret'));
    return mintApiToken(
      { secret: secret.value, issuer: 'edge-control-plane', audience: 'scripts-api' },
      { subject: 'chaos-driver', scopes: SCOPES, ttlSeconds: 24 * 3600, now: Date.now() },
    );
  }

  /** Starts the control plane and returns its signing key once it printed its URLs. */
  private async startControlPlane(): Promise<{ keyId: string; publicKey: string }> {
    const configFile = path.join(this.dir, 'control-plane.yaml');
    const config = {
      listen: { host: '127.0.0.1', port: this.port },
      database: 'control-plane.db',
      jwt: { secretFile: 'jwt.secret' },
      signingKeyFile: 'signing.pem',
      delivery: { leadSeconds: this.settings.leadSeconds },
      heartbeatIntervalSeconds: 5,
      sites: [{ id: this.siteId, name: 'chaos site', tokenHash: hashSiteToken(this.siteToken) }],
    };
    await writeFile(configFile, stringify(config));

    const program = new Program(
      'src/cli/edge-control-plane',
      ['serve', '--config', configFile],
      path.join(this.dir, 'control-plane.log'),
    );
    this.controlPlane = program;
    void program.exited.then((code) => {
      if (this.controlPlane === program) {
        this.surprises.push(
          `${new Date().toISOString()}: control plane exited by itself with ${code}`,
        );
      }
    });
    const [api, hub, key] = await Promise.all([
      program.waitForLine(/^Scripts API: (\S+)\/scripts\/scheduled$/, READY_TIMEOUT_MS),
      program.waitForLine(/^Agent hub: (\S+)$/, READY_TIMEOUT_MS),
      program.waitForLine(/^Signing public key \(key id (\w+)\): (\S+)$/, READY_TIMEOUT_MS),
    ]);
    this.apiUrl = api[1] ?? '';
    this.agentUrl = hub[1] ?? '';
    this.port = Number(new URL(this.apiUrl).port);
    return { keyId: key[1] ?? '', publicKey: key[2] ?? '' };
  }

  private async writeAgentConfig(
    key: { keyId: string; publicKey: string },
    devices: readonly DeviceConfig[],
  ): Promise<void> {
    const config = {
      siteId: this.siteId,
      logLevel: 'info',
      controlPlane: {
        url: this.agentUrl,
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
