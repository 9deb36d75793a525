import { createServer, type Server } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { ApiConnection, type ApiConnectOptions } from '../../../src/devices/api/connection.js';
import { AgentError } from '../../../src/errors.js';
import { ANONYMOUS_CIPHERS, apiSslOptions } from '../../../src/simulator/api/tls.js';
import type { FaultName } from '../../../src/simulator/fleet/faults.js';
import { apiConnectOptions } from '../../support/api-connection.js';
import { startApiService } from '../../support/api-service.js';
import { ManualClock } from '../../support/manual-clock.js';
import { closedPort } from '../../support/ports.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function service(version: string, faults: FaultName[] = [], tls?: boolean) {
  const started = await startApiService({
    version,
    faults,
    ...(tls === true ? { tls: apiSslOptions(undefined) } : {}),
  });
  cleanups.push(() => started.server.close());
  return started;
}

const connectOptions = apiConnectOptions;

async function open(options: ApiConnectOptions): Promise<ApiConnection> {
  const connection = await ApiConnection.open(options);
  cleanups.push(() => connection.close());
  return connection;
}

async function openError(options: ApiConnectOptions): Promise<AgentError> {
  try {
    await open(options);
  } catch (error) {
    if (error instanceof AgentError) {
      return error;
    }

    throw error;
  }

  throw new Error('expected the connection to fail');
}

describe('ApiConnection login', () => {
  for (const version of ['6.42', '6.49.10', '7.17', '7.18.2']) {
    it(`logs in to RouterOS ${version}`, async () => {
      const { port } = await service(version);
      const connection = await open(connectOptions(port));
      expect(connection.closed).toBe(false);
    });
  }

  it('reports a wrong password as AUTH_FAILED', async () => {
    const { port } = await service('7.17');
    const error = await openError(connectOptions(port, { password: 'wrong' }));
    expect(error.code).toBe('AUTH_FAILED');
  });

  it('reports the MD5 login rejected as AUTH_FAILED', async () => {
    const { port } = await service('6.42');
    const error = await openError(connectOptions(port, { password: 'wrong' }));
    expect(error.code).toBe('AUTH_FAILED');
  });

  it('reports the auth-fail fault as AUTH_FAILED', async () => {
    const { port } = await service('7.18.2', ['auth-fail']);
    const error = await openError(connectOptions(port));
    expect(error.code).toBe('AUTH_FAILED');
  });
});

describe('ApiConnection reachability', () => {
  it('reports a refused port as DEVICE_UNREACHABLE', async () => {
    const error = await openError(connectOptions(await closedPort()));
    expect(error.code).toBe('DEVICE_UNREACHABLE');
  });

  it('reports a silent device as DEVICE_UNREACHABLE', async () => {
    const { port } = await service('7.17', ['silent']);
    const clock = new ManualClock();
    const failure = openError(connectOptions(port, { clock, connectTimeoutMs: 5000 }));
    await clock.waitForTimers(1);
    clock.advance(5000);
    expect((await failure).code).toBe('DEVICE_UNREACHABLE');
  });

  it('reports a silent API-SSL device as DEVICE_UNREACHABLE', async () => {
    const { port } = await service('7.17', ['silent'], true);
    const clock = new ManualClock();
    const tls = {
      ciphers: ANONYMOUS_CIPHERS,
      maxVersion: 'TLSv1.2',
      rejectUnauthorized: false,
    } as const;
    const failure = openError(connectOptions(port, { clock, tls, connectTimeoutMs: 5000 }));
    await clock.waitForTimers(1);
    clock.advance(5000);
    expect((await failure).code).toBe('DEVICE_UNREACHABLE');
  });

  it('reports a server that accepts and never answers as DEVICE_UNREACHABLE', async () => {
    // The server reads and discards what it gets, so it sees the client close.
    const server: Server = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    const error = await openError(connectOptions(port, { connectTimeoutMs: 300 }));
    expect(error.code).toBe('DEVICE_UNREACHABLE');
  });

  it('reports cancellation while connecting as CANCELLED', async () => {
    const { port } = await service('7.17', ['silent']);
    const controller = new AbortController();
    const failure = openError(connectOptions(port, { signal: controller.signal }));
    controller.abort();
    expect((await failure).code).toBe('CANCELLED');
  });
});

describe('ApiConnection TLS', () => {
  it('reports TLS to a plain API port as DEVICE_UNREACHABLE', async () => {
    const { port } = await service('7.17');
    const tls = { rejectUnauthorized: false };
    const error = await openError(connectOptions(port, { tls, connectTimeoutMs: 300 }));
    expect(error.code).toBe('DEVICE_UNREACHABLE');
  });

  it('reports certificate mode against anonymous TLS as TLS_FAILED', async () => {
    const { port } = await service('7.17', [], true);
    const error = await openError(connectOptions(port, { tls: { rejectUnauthorized: false } }));
    expect(error.code).toBe('TLS_FAILED');
  });

  it('logs in over anonymous TLS', async () => {
    const { port } = await service('6.49.10', [], true);
    const tls = {
      ciphers: ANONYMOUS_CIPHERS,
      maxVersion: 'TLSv1.2',
      rejectUnauthorized: false,
    } as const;
    const connection = await open(connectOptions(port, { tls }));
    expect(connection.closed).toBe(false);
  });
});
