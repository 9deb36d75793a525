import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import Database from 'better-sqlite3';
import { stringify } from 'yaml';

import {
  type ControlPlaneConfig,
  parseControlPlaneConfig,
} from '../../src/control-plane/config.js';
import { SCOPES, type Scope } from '../../src/control-plane/http/auth.js';
import type { ChildProcesses } from '../../src/demo/children.js';
import { type ControlPlaneEndpoints, controlPlaneReady } from '../../src/demo/stack.js';
import { waitUntil } from './agent-site.js';
import {
  apiRequestAt,
  mintTestToken,
  type TestSite,
  testControlPlaneSettings,
} from './control-plane.js';
import { stderrOf } from './daemon.js';
import type { RecordedEvent } from './event-audit.js';
import { responseValidator } from './openapi.js';

/** One device of `GET /scripts/scheduled/{id}/sites/{siteId}`. */
export type RecordedResult = {
  device_id: string;
  state: string;
  revision: number;
  error_code: string | null;
  error_message: string | null;
  output: string | null;
};

/** The body of `GET /scripts/scheduled/{id}/sites/{siteId}`. */
export type SiteDetail = {
  verdict: string;
  delivery: {
    state: string;
    reject_code: string | null;
    agent_verdict: string | null;
  } | null;
  devices: RecordedResult[];
};

/** `ScriptProgress` of the Scripts API. */
export type ScriptProgress = { completed: string[]; failed: string[]; pending: string[] };

const validateProgress = responseValidator(
  '/scripts/scheduled/{scheduledScriptId}/progress',
  'get',
);

export type ControlPlaneProcessOptions = {
  /** Directory for the configuration, database and keys; the caller removes it. */
  dir: string;
  sites: readonly TestSite[];
  /** Port to listen on; default 0, a port the kernel picks. */
  port?: number;
  /** Heartbeat interval sent to agents, in seconds; default 30. */
  heartbeatIntervalSeconds?: number;
  /** Name of the child process in the recorded output; default `control-plane`. */
  name?: string;
};

/**
 * `edge-control-plane serve` as a child process, with its configuration, SQLite database,
 * signing key and JWT secret in one directory. It can be killed and started again on the same
 * files and port, which agents configured with its URL need.
 */
export class ControlPlaneProcess {
  readonly dir: string;

  readonly sites: readonly TestSite[];

  /** URLs and signing key printed by the running process; replaced on every start. */
  endpoints: ControlPlaneEndpoints = {
    apiUrl: '',
    agentUrl: '',
    key: { keyId: '', publicKey: '' },
  };

  private readonly children: ChildProcesses;

  private readonly name: string;

  private readonly configFile: string;

  private readonly config: ControlPlaneConfig;

  private readonly settings: Record<string, unknown>;

  /** Starts so far; each start is a child of its own name, so old output never matches. */
  private starts = 0;

  private constructor(children: ChildProcesses, options: ControlPlaneProcessOptions) {
    this.children = children;
    this.dir = options.dir;
    this.sites = options.sites;
    this.name = options.name ?? 'control-plane';
    this.configFile = path.join(options.dir, 'control-plane.yaml');
    this.settings = testControlPlaneSettings(options.sites, {
      ...(options.heartbeatIntervalSeconds === undefined
        ? {}
        : { heartbeatIntervalSeconds: options.heartbeatIntervalSeconds }),
    });
    this.settings.listen = { host: '127.0.0.1', port: options.port ?? 0 };
    this.config = parseControlPlaneConfig(this.settings, this.configFile, options.dir);
  }

  /** Starts the control plane and resolves once it printed its URLs. */
  static async start(
    children: ChildProcesses,
    options: ControlPlaneProcessOptions,
  ): Promise<ControlPlaneProcess> {
    const controlPlane = new ControlPlaneProcess(children, options);
    await controlPlane.launch();
    return controlPlane;
  }

  /** The port the control plane listens on. */
  get port(): number {
    return Number(new URL(this.endpoints.apiUrl).port);
  }

  get databaseFile(): string {
    return this.config.database;
  }

  /** Name of the newest child process, for its recorded output. */
  get childName(): string {
    return this.starts <= 1 ? this.name : `${this.name}-${this.starts}`;
  }

  /** Mints a Scripts API token (default: every scope). */
  token(scopes: readonly Scope[] = SCOPES): Promise<string> {
    return mintTestToken(this.config, scopes, 'e2e-operator');
  }

  /** Sends a Scripts API request with a token of every scope. */
  async request(
    method: string,
    pathname: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const token = await this.token();
    return apiRequestAt(this.endpoints.apiUrl, method, pathname, {
      token,
      ...(body === undefined ? {} : { body }),
    });
  }

  /** Creates `script` for `siteIds` through the Scripts API, authorizes it and launches it now. */
  async launchScript(script: string, siteIds: readonly string[]): Promise<string> {
    const created = await this.request('POST', '/scripts/scheduled', {
      description: 'End-to-end test script',
      script,
      launch_at: new Date(Date.now() + 3_600_000).toISOString(),
      sites: siteIds,
    });
    const id = (created.body as { id?: string }).id;
    if (created.status !== 201 || id === undefined) {
      throw new Error(`creating the script returned ${created.status}`);
    }

    for (const step of ['authorize', 'launch']) {
      const response = await this.request('POST', `/scripts/scheduled/${id}/${step}`);
      if (response.status !== 200) {
        throw new Error(`POST /scripts/scheduled/${id}/${step} returned ${response.status}`);
      }
    }

    return id;
  }

  /** `GET /scripts/scheduled/{id}/sites/{siteId}`. */
  async siteDetail(scriptId: string, siteId: string): Promise<SiteDetail> {
    const response = await this.request('GET', `/scripts/scheduled/${scriptId}/sites/${siteId}`);
    return response.body as SiteDetail;
  }

  /**
   * Reads the progress once and validates the response against the OpenAPI document. Returns
   * the body and the validation errors, undefined when it conforms.
   */
  async progress(scriptId: string): Promise<{ body: ScriptProgress; errors: unknown }> {
    const response = await this.request('GET', `/scripts/scheduled/${scriptId}/progress`);
    return {
      body: response.body as ScriptProgress,
      errors: validateProgress(response.status, response.body),
    };
  }

  /**
   * Polls the progress every 50 ms until no site is pending. Returns the last body, the number
   * of responses read and the validation errors of those that did not conform.
   */
  async progressUntilDone(
    scriptId: string,
    timeoutMs: number,
  ): Promise<{ final: ScriptProgress; responses: number; invalid: unknown[] }> {
    const invalid: unknown[] = [];
    let responses = 0;
    let final: ScriptProgress = { completed: [], failed: [], pending: [] };
    await waitUntil(
      async () => {
        const { body, errors } = await this.progress(scriptId);
        responses += 1;
        if (errors !== undefined) {
          invalid.push(errors);
        }

        final = body;
        return Array.isArray(body.pending) && body.pending.length === 0;
      },
      timeoutMs,
      `script ${scriptId} leaving pending`,
    );
    return { final, responses, invalid };
  }

  /**
   * Freezes the process with SIGSTOP: its sockets stay open and the kernel still accepts bytes
   * for it, but it reads and acknowledges nothing until SIGCONT or SIGKILL.
   */
  freeze(): void {
    this.children.signal(this.childName, 'SIGSTOP');
  }

  /** Ends the process with SIGKILL, as a crash or power loss would, and waits for its exit. */
  async kill(): Promise<void> {
    this.children.signal(this.childName, 'SIGKILL');
    await this.children.exited(this.childName);
  }

  /** Lets a frozen process run again with SIGCONT; a running one is unaffected. */
  thaw(): void {
    this.children.signal(this.childName, 'SIGCONT');
  }

  /**
   * Stops the process with SIGTERM and waits for its exit. A frozen process is thawed first,
   * because it acts on SIGTERM only once it runs.
   */
  stop(): Promise<void> {
    this.thaw();
    return this.children.stop(this.childName);
  }

  /**
   * Starts the control plane again on the same files and port. Fails with a message naming the
   * port when another process took it meanwhile.
   */
  async restart(): Promise<void> {
    this.settings.listen = { host: '127.0.0.1', port: this.port };
    await this.launch();
  }

  /** Reads every status event recorded from `siteId`'s agents, in sequence order. */
  recordedEvents(siteId: string): RecordedEvent[] {
    const db = new Database(this.databaseFile, { readonly: true });
    try {
      return db
        .prepare(
          `SELECT outbox_id AS outboxId, script_id AS scriptId, seq, kind, device_id AS deviceId,
             revision
           FROM status_events WHERE site_id = ? ORDER BY outbox_id, seq`,
        )
        .all(siteId) as RecordedEvent[];
    } finally {
      db.close();
    }
  }

  private async launch(): Promise<void> {
    await writeFile(this.configFile, stringify(this.settings));
    this.starts += 1;
    const name = this.childName;
    this.children.start(name, 'edge-control-plane', ['serve', '--config', this.configFile]);
    try {
      this.endpoints = await controlPlaneReady(this.children, name);
    } catch (error) {
      const { port } = this.settings.listen as { port: number };
      const where = port === 0 ? 'on a port of its own' : `on port ${port}, which agents use`;
      const stderr = stderrOf(this.children, name);
      throw new Error(
        `${name} did not start ${where}; another process may hold the port. Its stderr: ${stderr}`,
        { cause: error },
      );
    }
  }
}
