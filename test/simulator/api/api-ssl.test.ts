import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';

import { afterEach, describe, expect, it } from 'vitest';

import {
  ANONYMOUS_CIPHERS,
  apiSslOptions,
  generateCertificate,
} from '../../../src/simulator/api/tls.js';
import { RawApiClient } from '../../support/api-client.js';
import { startApiService, TEST_PASSWORD, TEST_USER } from '../../support/api-service.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

const ANONYMOUS_CLIENT = {
  ciphers: ANONYMOUS_CIPHERS,
  maxVersion: 'TLSv1.2',
  rejectUnauthorized: false,
} as const;

async function startSsl(certificate: Awaited<ReturnType<typeof generateCertificate>> | undefined) {
  const service = await startApiService({ version: '7.18.2', tls: apiSslOptions(certificate) });
  cleanups.push(() => service.server.close());
  return service.port;
}

/** Resolves with the TLS alert or error a client gets, or undefined when the handshake passes. */
function handshakeError(port: number, options: ConnectionOptions) {
  return new Promise<string | undefined>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('API-SSL with certificate', () => {
  it('presents the generated certificate', async () => {
    const certificate = await generateCertificate('127.0.0.1');
    const port = await startSsl(certificate);

    const client = await RawApiClient.connect(port, '127.0.0.1', { rejectUnauthorized: false });
    cleanups.push(() => client.close());
    const peer = (client.socket as TLSSocket).getPeerX509Certificate();

    expect(peer?.fingerprint256.replaceAll(':', '').toLowerCase()).toBe(certificate.fingerprint);
  });

  it('verifies against the certificate as CA', async () => {
    const certificate = await generateCertificate('127.0.0.1');
    const port = await startSsl(certificate);

    const error = await handshakeError(port, { ca: certificate.certPem });

    expect(error).toBeUndefined();
  });

  it('logs in over TLS', async () => {
    const port = await startSsl(await generateCertificate('127.0.0.1'));
    const client = await RawApiClient.connect(port, '127.0.0.1', { rejectUnauthorized: false });
    cleanups.push(() => client.close());

    const replies = await client.call([
      '/login',
      `=name=${TEST_USER}`,
      `=password=${TEST_PASSWORD}`,
    ]);

    expect(replies).toEqual([['!done']]);
  });

  it('generates a parseable certificate', async () => {
    const certificate = await generateCertificate('router.example');
    const parsed = new X509Certificate(certificate.certPem);

    expect(parsed.subject).toBe('CN=router.example');
    expect(parsed.subjectAltName).toBe('DNS:router.example');
    expect(parsed.checkPrivateKey(createPrivateKey(certificate.keyPem))).toBe(true);
  });
});

describe('API-SSL without certificate', () => {
  it('logs in over anonymous DH', async () => {
    const port = await startSsl(undefined);
    const client = await RawApiClient.connect(port, '127.0.0.1', ANONYMOUS_CLIENT);
    cleanups.push(() => client.close());

    const replies = await client.call([
      '/login',
      `=name=${TEST_USER}`,
      `=password=${TEST_PASSWORD}`,
    ]);

    expect((client.socket as TLSSocket).getCipher().name).toBe('ADH-AES256-GCM-SHA384');
    expect(replies).toEqual([['!done']]);
  });

  it('rejects a client with default ciphers', async () => {
    const port = await startSsl(undefined);

    const error = await handshakeError(port, { rejectUnauthorized: false });

    expect(error).toBe('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  });

  it('rejects a TLS 1.3 only client', async () => {
    const port = await startSsl(undefined);

    const error = await handshakeError(port, {
      ...ANONYMOUS_CLIENT,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });

    expect(error).toBeDefined();
  });
});
