import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { stringify } from 'yaml';

import { mintApiToken } from '../control-plane/http/auth.js';
import { generateSiteToken, hashSiteToken } from '../control-plane/secrets.js';
import { AgentError } from '../errors.js';
import type { LogLevel } from '../logging.js';
import type { ChildProcesses } from './children.js';
import { demoFleetFile } from './fleet.js';

/** Secret values of one stack, for the tests that check none of them leaks. */
export type StackSecrets = {
  siteToken: string;
  statusToken: string;
  jwtSecret: string;
  devicePassword: string;
  /** The Scripts API token minted from the JWT secret. */
  apiToken: string;
};

/** A running control plane, simulated site and agent, all child processes on loopback. */
export type Stack = {
  dir: string;
  siteId: string;
  /** Base URL of the control plane's Scripts API, e.g. `http://127.0.0.1:40123`. */
  apiUrl: string;
  /** Base URL of the agent's status endpoint. */
  statusUrl: string;
  secrets: StackSecrets;
  children: ChildProcesses;
};

/** Time each program gets to report that it is ready, in milliseconds. */
const READY_TIMEOUT_MS = 20_000;

/** The Scripts API scopes the demo operator holds. */
const OPERATOR_SCOPES = ['script:view', 'script:create', 'script:authorize', 'script:run'];

/** The control plane's issuer and audience defaults, which the demo configuration keeps. */
const JWT_SETTINGS = { issuer: 'edge-control-plane', audience: 'scripts-api' } as const;

/**
 * Starts the reference control plane and the simulated devices, then the agent with a
 * configuration generated for them in `dir`, and resolves once the agent's link is up.
 * `logLevel` applies to the agent and the simulator; the control plane logs at info.
 */
export async function startStack(
  dir: string,
  children: ChildProcesses,
  logLevel: LogLevel = 'info',
): Promise<Stack> {
  const siteId = randomUUID();
  const secrets = await writeSecrets(dir);
  const files = await writeControlPlaneFiles(dir, siteId, secrets.siteToken);

  children.start('control-plane', 'edge-control-plane', ['serve', '--config', files.controlPlane]);
  const [controlPlane, inventory] = await Promise.all([
    controlPlaneReady(children),
    startSimulator(dir, children, logLevel),
  ]);

  const agentConfig = path.join(dir, 'agent.yaml');
  await writeFile(
    agentConfig,
    stringify({
      ...agentConfigFile(siteId, controlPlane.agentUrl, controlPlane.key, inventory),
      logLevel,
    }),
  );
  children.start('agent', 'edge-agent', ['run', '--config', agentConfig]);
  const statusUrl = await agentReady(children);

  const apiToken = await mintApiToken(
    { secret: new TextEncoder().encode(secrets.jwtSecret), ...JWT_SETTINGS },
    { subject: 'demo-operator', scopes: OPERATOR_SCOPES, ttlSeconds: 3600, now: Date.now() },
  );
  const stack: Stack = {
    dir,
    siteId,
    apiUrl: controlPlane.apiUrl,
    statusUrl,
    secrets: { ...secrets, apiToken },
    children,
  };
  await waitForUplink(stack);
  return stack;
}

async function writeSecrets(dir: string): Promise<Omit<StackSecrets, 'apiToken'>> {
  const secrets = {
    siteToken: generateSiteToken(),
    statusToken: randomBytes(24).toString('base64url'),
    jwtSecret: randomBytes(48).toString('base64url'),
    devicePassword: `pw-${randomBytes(12).toString('base64url')}`,
  };
  await mkdir(path.join(dir, 'secrets'), { mode: 0o700 });
  const write = (name: string, text: string) =>
    writeFile(path.join(dir, 'secrets', name), `${text}\n`, { mode: 0o600 });
  await Promise.all([
    write('site-token', secrets.siteToken),
    write('status-token', secrets.statusToken),
    write('jwt.secret', secrets.jwtSecret),
    write('router-password', secrets.devicePassword),
  ]);
  return secrets;
}

async function writeControlPlaneFiles(
  dir: string,
  siteId: string,
  siteToken: string,
): Promise<{ controlPlane: string }> {
  const controlPlane = path.join(dir, 'control-plane.yaml');
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    database: 'control-plane.db',
    jwt: { secretFile: 'secrets/jwt.secret', ...JWT_SETTINGS },
    signingKeyFile: 'signing-key.pem',
    sites: [{ id: siteId, name: 'Demo branch', tokenHash: hashSiteToken(siteToken) }],
  };
  await writeFile(controlPlane, stringify(config));
  await writeFile(path.join(dir, 'fleet.yaml'), stringify(demoFleetFile()));
  return { controlPlane };
}

type ControlPlaneEndpoints = {
  apiUrl: string;
  agentUrl: string;
  key: { keyId: string; publicKey: string };
};

/** Reads the URLs and the signing key that `edge-control-plane serve` prints when it listens. */
async function controlPlaneReady(children: ChildProcesses): Promise<ControlPlaneEndpoints> {
  const wait = (pattern: RegExp) =>
    children
      .waitForLine('control-plane', (text) => pattern.test(text), READY_TIMEOUT_MS)
      .then((line) => pattern.exec(line.text) ?? []);
  const [api, hub, key] = await Promise.all([
    wait(/^Scripts API: (\S+)\/scripts\/scheduled$/),
    wait(/^Agent hub: (\S+)$/),
    wait(/^Signing public key \(key id ([0-9a-f]+)\): (\S+)$/),
  ]);

  return {
    apiUrl: api[1] ?? '',
    agentUrl: hub[1] ?? '',
    key: { keyId: key[1] ?? '', publicKey: key[2] ?? '' },
  };
}

/**
 * Starts `routeros-sim` and returns the inventory it wrote. A start that fails before the
 * devices are ready is tried once more.
 *
 * NOTE: ssh2 1.17's `generateKeyPairSync('ed25519')` yields a key its own `parseKey` rejects
 * about once in 256 calls, which fails the simulator's first start in a new state directory.
 * The retry generates new keys.
 */
async function startSimulator(
  dir: string,
  children: ChildProcesses,
  logLevel: LogLevel,
): Promise<unknown[]> {
  const inventoryFile = path.join(dir, 'inventory.json');
  const args = [
    '--fleet',
    path.join(dir, 'fleet.yaml'),
    '--inventory',
    inventoryFile,
    '--state-dir',
    path.join(dir, 'simulator'),
    '--password-file',
    path.join(dir, 'secrets', 'router-password'),
    '--log-level',
    logLevel,
  ];

  for (const name of ['simulator', 'simulator-retry']) {
    children.start(name, 'routeros-sim', args);
    try {
      await children.waitForLine(name, (text) => / devices ready$/.test(text), READY_TIMEOUT_MS);
      const inventory = JSON.parse(await readFile(inventoryFile, 'utf8')) as { devices: unknown[] };
      return inventory.devices;
    } catch (error) {
      if (name === 'simulator-retry' || children.exitCode(name) === null) {
        throw error;
      }
    }
  }

  throw new AgentError('INTERNAL', 'the simulator did not start');
}

/** Builds the agent's configuration: plain ws:// on loopback, short timeouts, the simulated devices. */
function agentConfigFile(
  siteId: string,
  agentUrl: string,
  key: ControlPlaneEndpoints['key'],
  devices: unknown[],
): Record<string, unknown> {
  return {
    siteId,
    controlPlane: {
      url: agentUrl,
      tokenFile: 'secrets/site-token',
      allowInsecure: true,
      jobSigningKey: { keyId: key.keyId, publicKey: key.publicKey },
    },
    runs: {
      concurrency: 8,
      connectTimeoutMs: 2000,
      commandTimeoutMs: 5000,
      runTimeoutMs: 20_000,
      shutdownDrainMs: 3000,
    },
    status: { listen: '127.0.0.1:0', tokenFile: 'secrets/status-token' },
    store: { path: 'agent.db' },
    devices,
  };
}

/** Resolves with the status URL from the agent's `agent started` log line. */
async function agentReady(children: ChildProcesses): Promise<string> {
  const line = await children.waitForLine(
    'agent',
    (text) => parseLogLine(text)?.msg === 'agent started',
    READY_TIMEOUT_MS,
  );
  return String(parseLogLine(line.text)?.statusUrl ?? '');
}

/** Parses a JSON log line, or returns undefined for any other text. */
export function parseLogLine(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Polls the agent's /status until its control-plane link is up. */
async function waitForUplink(stack: Stack): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = (await statusRequest(stack, '/status')) as { uplink?: { connected?: boolean } };
    if (status.uplink?.connected === true) {
      return;
    }

    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  throw new AgentError('TIMEOUT', `the agent did not connect within ${READY_TIMEOUT_MS} ms`);
}

/** GETs a path of the agent's status endpoint with its token and returns the parsed JSON. */
export async function statusRequest(stack: Stack, pathname: string): Promise<unknown> {
  const response = await fetch(`${stack.statusUrl}${pathname}`, {
    headers: { authorization: `Bearer ${stack.secrets.statusToken}` },
  });
  return response.json();
}
