import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { runScript } from '../support/run-script.js';

const healthcheck = fileURLToPath(new URL('../../agent/healthcheck.mjs', import.meta.url));

/** Starts a status server on a kernel-chosen loopback port whose /livez returns `status`. */
async function startStatusServer(status: number): Promise<Server> {
  const server = createServer((request, response) => {
    response.statusCode = request.url === '/livez' ? status : 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function runHealthcheck(listen: string) {
  return runScript(process.execPath, [healthcheck], {
    ...process.env,
    EDGE_AGENT_STATUS_LISTEN: listen,
  });
}

describe('agent/healthcheck.mjs', () => {
  let server: Server | undefined;

  afterEach(async () => {
    const running = server;
    server = undefined;
    if (running !== undefined) {
      await new Promise((resolve) => running.close(resolve));
    }
  });

  it('passes when livez returns 200', async () => {
    server = await startStatusServer(200);

    const result = await runHealthcheck(`127.0.0.1:${portOf(server)}`);

    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('fails when livez returns 503', async () => {
    server = await startStatusServer(503);

    const result = await runHealthcheck(`127.0.0.1:${portOf(server)}`);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/returned 503/);
  });

  it('requests loopback for 0.0.0.0', async () => {
    server = await startStatusServer(200);

    const result = await runHealthcheck(`0.0.0.0:${portOf(server)}`);

    expect(result.exitCode).toBe(0);
  });

  it('accepts a bare port', async () => {
    server = await startStatusServer(200);

    const result = await runHealthcheck(String(portOf(server)));

    expect(result.exitCode).toBe(0);
  });

  it('fails when nothing listens', async () => {
    const closed = await startStatusServer(200);
    const port = portOf(closed);
    await new Promise((resolve) => closed.close(resolve));

    const result = await runHealthcheck(`127.0.0.1:${port}`);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  });

  it('rejects an invalid listen address', async () => {
    const result = await runHealthcheck('localhost:99999');

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/invalid EDGE_AGENT_STATUS_LISTEN "localhost:99999"/);
  });
});
