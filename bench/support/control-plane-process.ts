import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { mintApiToken, SCOPES } from '../../src/control-plane/http/auth.js';
import {
  generateSiteToken,
  hashSiteToken,
  loadOrCreateJwtSecret,
} from '../../src/control-plane/secrets.js';
import { nodeArguments } from './child-module.js';
import { processCpuMs } from './process-tree.js';

/** The reference control plane, `edge-control-plane serve`, in a process of its own. */
export type ControlPlaneProcess = {
  pid: number;
  /** Base URL of the Scripts API. */
  apiUrl: string;
  agentUrl: string;
  /** The job-signing public key and its id, as agents pin them. */
  publicKey: string;
  keyId: string;
  siteId: string;
  /** The site's agent token in clear text. */
  siteToken: string;
  databaseFile: string;
  /** Creates, authorizes and launches `count` scripts for the site; returns their ids. */
  launchScripts(count: number, script: string): Promise<string[]>;
  /** CPU time of the process so far, user and system, in milliseconds. */
  cpuMs(): number;
  close(): Promise<void>;
};

/**
 * Starts `edge-control-plane serve` with one site on 127.0.0.1 and a kernel-chosen port, its
 * files in `directory`, and resolves once it printed its URLs.
 */
export async function startControlPlane(directory: string): Promise<ControlPlaneProcess> {
  const siteId = randomUUID();
  const siteToken = generateSiteToken();
  const configFile = path.join(directory, 'control-plane.json');
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    database: 'control-plane.db',
    jwt: { secretFile: 'jwt.secret' },
    signingKeyFile: 'signing.pem',
    sites: [{ id: siteId, name: 'benchmark site', tokenHash: hashSiteToken(siteToken) }],
  };
  writeFileSync(configFile, JSON.stringify(config));

  const child = spawn(
    process.execPath,
    nodeArguments('src/cli/edge-control-plane', ['serve', '--config', configFile]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const printed = await readStartLines(child);
  const api = async (method: string, pathname: string, body?: unknown): Promise<unknown> => {
    const token = await apiToken(path.join(directory, 'jwt.secret'));
    const response = await fetch(`${printed.apiUrl}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
      throw new Error(
        `${method} ${pathname} returned ${response.status}: ${await response.text()}`,
      );
    }

    return response.json();
  };

  return {
    pid: child.pid ?? 0,
    ...printed,
    siteId,
    siteToken,
    databaseFile: path.join(directory, 'control-plane.db'),
    async launchScripts(count, script) {
      const ids: string[] = [];
      for (let index = 0; index < count; index++) {
        const created = (await api('POST', '/scripts/scheduled', {
          description: `benchmark script ${index + 1}`,
          script,
          launch_at: new Date(Date.now() + 3_600_000).toISOString(),
          sites: [siteId],
        })) as { id: string };
        await api('POST', `/scripts/scheduled/${created.id}/authorize`);
        await api('POST', `/scripts/scheduled/${created.id}/launch`);
        ids.push(created.id);
      }

      return ids;
    },
    cpuMs: () => processCpuMs(child.pid ?? 0),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

type StartLines = { apiUrl: string; agentUrl: string; publicKey: string; keyId: string };

/** Reads the URLs and key that `serve` prints before it logs anything else. */
async function readStartLines(child: ChildProcess): Promise<StartLines> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const found: Record<keyof StartLines, string | undefined> = {
    apiUrl: undefined,
    agentUrl: undefined,
    publicKey: undefined,
    keyId: undefined,
  };

  for await (const line of lines) {
    const api = /^Scripts API: (\S+)\/scripts\/scheduled$/.exec(line);
    const hub = /^Agent hub: (\S+)$/.exec(line);
    const key = /^Signing public key \(key id (\w+)\): (\S+)$/.exec(line);
    if (api !== null) {
      found.apiUrl = api[1];
    } else if (hub !== null) {
      found.agentUrl = hub[1];
    } else if (key !== null) {
      found.keyId = key[1];
      found.publicKey = key[2];
      break;
    }
  }

  // The log lines that follow are not read; keep the pipe flowing.
  child.stdout?.resume();
  const { apiUrl, agentUrl, publicKey, keyId } = found;
  if (
    apiUrl === undefined ||
    agentUrl === undefined ||
    publicKey === undefined ||
    keyId === undefined
  ) {
    throw new Error('edge-control-plane serve exited before printing its URLs and key');
  }

  return { apiUrl, agentUrl, publicKey, keyId };
}

async function apiToken(secretFile: string): Promise<string> {
  const secret = await loadOrCreateJwtSecret(secretFile);
  return mintApiToken(
    { secret: secret.value, issuer: 'edge-control-plane', audience: 'scripts-api' },
    { subject: 'benchmark', scopes: SCOPES, ttlSeconds: 3600, now: Date.now() },
  );
}
