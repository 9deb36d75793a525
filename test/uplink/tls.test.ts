import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePublicKey, parsePublicKey } from '../../src/protocol/signing.js';
import { UplinkClient } from '../../src/uplink/client.js';
import { createTestCertificate, type TestCertificate } from '../support/certificates.js';
import { startTestControlPlane } from '../support/control-plane.js';
import { newSigningKey } from '../support/signed-offers.js';
import { waitFor } from '../support/sockets.js';
import { startTestAgent, type TestAgent } from '../support/uplink.js';

let dir: string;
let certificate: TestCertificate;
let server: Server;
let agent: TestAgent | undefined;
/** Upgrade requests the server received, each with its Authorization header. */
let upgrades: Array<string | undefined>;

const key = parsePublicKey(encodePublicKey(newSigningKey().publicKey));

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'uplink-tls-'));
  certificate = await createTestCertificate(dir);
  upgrades = [];
  server = createServer({
    cert: await readFile(certificate.certFile),
    key: await readFile(certificate.keyFile),
  });
  server.on('upgrade', (request, socket) => {
    upgrades.push(request.headers.authorization);
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function url(): string {
  return `wss://127.0.0.1:${(server.address() as AddressInfo).port}/agent/v1`;
}

async function attempt(extra: Record<string, unknown>): Promise<TestAgent> {
  agent = await startTestAgent({
    url: url(),
    token: 'site-token',
    siteId: randomUUID(),
    keys: [key],
    extra,
  });
  const started = agent;
  await waitFor(() => started.client.getStatus().lastError !== undefined, 5000, 'first attempt');
  return started;
}

describe('uplink certificate checks', () => {
  it('rejects a self-signed certificate by default', async () => {
    const started = await attempt({});

    expect(started.client.getStatus().lastError?.code).toBe('UPLINK_TLS_FAILED');
    expect(upgrades).toEqual([]);
  });

  it('trusts a configured CA file', async () => {
    const started = await attempt({ caFile: certificate.certFile });

    expect(started.client.getStatus().lastError?.code).toBe('UPLINK_AUTH_FAILED');
    expect(upgrades).toEqual(['Bearer site-token']);
  });

  it('names the URL on token rejection', async () => {
    const started = await attempt({ caFile: certificate.certFile });

    const lastError = started.client.getStatus().lastError;
    expect(lastError?.code).toBe('UPLINK_AUTH_FAILED');
    expect(lastError?.message).toContain(url());
  });

  it('accepts the pinned fingerprint', async () => {
    const withColons = certificate.fingerprint.toUpperCase().replace(/(..)(?!$)/g, '$1:');
    const started = await attempt({ fingerprint: withColons });

    expect(started.client.getStatus().lastError?.code).toBe('UPLINK_AUTH_FAILED');
    expect(upgrades).toEqual(['Bearer site-token']);
  });

  it('withholds the token on fingerprint mismatch', async () => {
    const other = await createTestCertificate(dir, 'other');

    const started = await attempt({ fingerprint: other.fingerprint });

    expect(started.client.getStatus().lastError?.code).toBe('UPLINK_TLS_FAILED');
    expect(upgrades).toEqual([]);
  });

  it('connects to a TLS control plane', async () => {
    const cp = await startTestControlPlane({ siteCount: 1, tls: certificate });
    try {
      const site = cp.sites[0];
      agent = await startTestAgent({
        url: cp.controlPlane.info.agentUrl,
        token: site?.token ?? '',
        siteId: site?.id ?? '',
        keys: [cp.key],
        extra: { caFile: certificate.certFile },
      });
      const started = agent;

      await waitFor(() => started.client.getStatus().state === 'connected', 5000, 'connection');
      expect(cp.controlPlane.info.agentUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/agent\/v1$/);
      expect(started.client.getStatus().lastContactAt).toBeDefined();
    } finally {
      await agent?.stop();
      agent = undefined;
      await cp.stop();
    }
  });

  it('rejects plain ws to other hosts', () => {
    const options = {
      url: 'ws://192.0.2.10/agent/v1',
      token: 't',
      siteId: randomUUID(),
      agentVersion: 'x',
      devices: () => [],
      keys: [key],
      intake: async () => undefined,
      cancel: async () => {},
      outbox: { read: () => [], acknowledge: () => {}, acknowledgedSeq: () => 0 },
      outboxId: randomUUID(),
    };

    expect(() => new UplinkClient(options)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => new UplinkClient({ ...options, allowInsecure: true })).not.toThrow();
  });
});
