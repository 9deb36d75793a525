import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { stringify } from 'yaml';

import { mintApiToken, SCOPES } from '../../src/control-plane/http/auth.js';
import { hashSiteToken, loadOrCreateJwtSecret } from '../../src/control-plane/secrets.js';
import { Program, READY_TIMEOUT_MS, sleep } from './chaos-program.js';

/** The site the control plane serves, and how early it offers jobs. */
export type ControlPlaneSettings = {
  siteId: string;
  siteToken: string;
  /** The control plane's `delivery.leadSeconds`. */
  leadSeconds: number;
};

/** The job-signing public key and its id, as the agent pins them. */
export type SigningKey = { keyId: string; publicKey: string };

/**
 * `edge-control-plane serve` with one site, which the driver stops, kills, freezes and starts
 * again. Its files live in `dir` and its output goes to `control-plane.log` there.
 */
export class ChaosControlPlane {
  readonly dir: string;

  /** Base URL of the Scripts API, such as `http://127.0.0.1:40123`. */
  apiUrl = '';

  /** URL of the agent hub, which the agent's configuration names. */
  agentUrl = '';

  /** The running process; undefined while it is stopped. */
  program: Program | undefined;

  private readonly settings: ControlPlaneSettings;

  /** Receives a line for each exit the driver did not cause. */
  private readonly onSurprise: (line: string) => void;

  /** Port it listens on; 0 until the first start, then kept across restarts. */
  private port = 0;

  private apiToken: string | undefined;

  constructor(dir: string, settings: ControlPlaneSettings, onSurprise: (line: string) => void) {
    this.dir = dir;
    this.settings = settings;
    this.onSurprise = onSurprise;
  }

  get databaseFile(): string {
    return path.join(this.dir, 'control-plane.db');
  }

  /** Starts the process and returns the signing key once it printed its URLs. */
  async start(): Promise<SigningKey> {
    const configFile = path.join(this.dir, 'control-plane.yaml');
    const { siteId, siteToken, leadSeconds } = this.settings;
    const config = {
      listen: { host: '127.0.0.1', port: this.port },
      database: 'control-plane.db',
      jwt: { secretFile: 'jwt.secret' },
      signingKeyFile: 'signing.pem',
      delivery: { leadSeconds },
      heartbeatIntervalSeconds: 5,
      sites: [{ id: siteId, name: 'chaos site', tokenHash: hashSiteToken(siteToken) }],
    };
    await writeFile(configFile, stringify(config));

    const program = new Program(
      'src/cli/edge-control-plane',
      ['serve', '--config', configFile],
      path.join(this.dir, 'control-plane.log'),
    );
    this.program = program;
    void program.exited.then((code) => {
      if (this.program === program) {
        this.onSurprise(`${new Date().toISOString()}: control plane exited by itself with ${code}`);
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

  /**
   * Stops the process with `signal`, waits `downMs` and starts it again on the same port. A port
   * that a client connection took meanwhile is retried for up to 10 seconds.
   */
  async restart(signal: NodeJS.Signals, downMs: number): Promise<void> {
    await this.stop(signal);
    await sleep(downMs);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (error) {
        if (attempt >= 20) {
          throw error;
        }

        await sleep(500);
      }
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const program = this.program;
    this.program = undefined;
    program?.signal(signal);
    await program?.exited;
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
}
