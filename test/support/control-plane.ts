import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/clock.js';
import {
  type ControlPlaneConfig,
  parseControlPlaneConfig,
} from '../../src/control-plane/config.js';
import { mintApiToken, SCOPES, type Scope } from '../../src/control-plane/http/auth.js';
import {
  generateSiteToken,
  hashSiteToken,
  loadOrCreateJwtSecret,
} from '../../src/control-plane/secrets.js';
import { ControlPlane, type ControlPlaneOptions } from '../../src/control-plane/server.js';
import type { Logger } from '../../src/logging.js';
import { parsePublicKey, type VerificationKey } from '../../src/protocol/signing.js';

/** A configured site with the clear-text token its agent uses. */
export type TestSite = { id: string; name: string; token: string };

export type TestControlPlane = {
  controlPlane: ControlPlane;
  config: ControlPlaneConfig;
  dir: string;
  sites: TestSite[];
  /** The control plane's job-signing key as agents pin it. */
  key: VerificationKey;
  /** Mints an API token with the given scopes (default: every scope). */
  token: (scopes?: readonly Scope[], subject?: string) => Promise<string>;
  /** Stops the control plane and starts it again on the same files and port. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
};

export type TestControlPlaneOptions = {
  siteCount?: number;
  clock?: Clock;
  leadSeconds?: number;
  heartbeatIntervalSeconds?: number;
  /** Certificate and key files; the control plane then serves https:// and wss://. */
  tls?: { certFile: string; keyFile: string };
  /** Logger of the control plane; default silent. */
  logger?: Logger;
};

/** Makes `count` sites named `site-1`, `site-2`, ... with new ids and agent tokens. */
export function makeTestSites(count: number): TestSite[] {
  return Array.from({ length: count }, (_, index) => ({
    id: randomUUID(),
    name: `site-${index + 1}`,
    token: generateSiteToken(),
  }));
}

/**
 * Returns the configuration file contents of a test control plane: port 0, and the database,
 * JWT secret and signing key as file names relative to the configuration's directory.
 */
export function testControlPlaneSettings(
  sites: readonly TestSite[],
  options: Omit<TestControlPlaneOptions, 'siteCount' | 'clock'> = {},
): Record<string, unknown> {
  return {
    listen: {
      host: '127.0.0.1',
      port: 0,
      ...(options.tls === undefined
        ? {}
        : { tls: { certFile: options.tls.certFile, keyFile: options.tls.keyFile } }),
    },
    database: 'cp.db',
    jwt: { secretFile: 'jwt.secret' },
    signingKeyFile: 'signing.pem',
    delivery: { leadSeconds: options.leadSeconds ?? 600 },
    heartbeatIntervalSeconds: options.heartbeatIntervalSeconds ?? 30,
    sites: sites.map((site) => ({
      id: site.id,
      name: site.name,
      tokenHash: hashSiteToken(site.token),
    })),
  };
}

/**
 * Mints a Scripts API token with the JWT secret file that `config` names, creating the file
 * when it is missing.
 */
export async function mintTestToken(
  config: ControlPlaneConfig,
  scopes: readonly Scope[] = SCOPES,
  subject = 'tester',
  now = Date.now(),
): Promise<string> {
  const secret = await loadOrCreateJwtSecret(config.jwt.secretFile);
  return mintApiToken(
    { secret: secret.value, issuer: config.jwt.issuer, audience: config.jwt.audience },
    { subject, scopes, ttlSeconds: 3600, now },
  );
}

/** Starts a control plane on 127.0.0.1 port 0 with files in a new temp dir. */
export async function startTestControlPlane(
  options: TestControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'control-plane-'));
  const sites = makeTestSites(options.siteCount ?? 2);
  let config = parseControlPlaneConfig(
    testControlPlaneSettings(sites, options),
    'test config',
    dir,
  );
  const startOptions = (): ControlPlaneOptions => ({
    config,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });

  const controlPlane = await ControlPlane.start(startOptions());
  const fixture: TestControlPlane = {
    controlPlane,
    config,
    dir,
    sites,
    key: parsePublicKey(controlPlane.info.publicKey),
    token: (scopes = SCOPES, subject = 'tester') =>
      mintTestToken(config, scopes, subject, options.clock?.now() ?? Date.now()),
    restart: async () => {
      const port = Number(new URL(fixture.controlPlane.info.url).port);
      await fixture.controlPlane.stop();
      config = { ...config, listen: { ...config.listen, port } };
      fixture.config = config;
      fixture.controlPlane = await ControlPlane.start(startOptions());
    },
    stop: async () => {
      await fixture.controlPlane.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Sends an API request with a bearer token and returns the status and parsed body. */
export function apiRequest(
  fixture: TestControlPlane,
  method: string,
  pathname: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  return apiRequestAt(fixture.controlPlane.info.url, method, pathname, options);
}

/** Sends an API request to the control plane at `baseUrl`; see `apiRequest`. */
export async function apiRequestAt(
  baseUrl: string,
  method: string,
  pathname: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) {
    headers.authorization = `Bearer ${options.token}`;
  }

  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
  }

  const response = await fetch(`${baseUrl}${pathname}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text.length === 0 ? undefined : JSON.parse(text) };
}

/** Builds a valid body for `POST /scripts/scheduled`, launching in an hour. */
export function scriptBody(
  sites: readonly string[],
  overrides: Record<string, unknown> = {},
  now = Date.now(),
): Record<string, unknown> {
  return {
    description: 'Set the identity',
    script: '/system identity set name=edge',
    launch_at: new Date(now + 60 * 60 * 1000).toISOString(),
    sites,
    make_backup: false,
    ...overrides,
  };
}
