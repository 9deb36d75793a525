import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ClientOptions } from 'ws';
import { AgentError, errorMessage } from '../errors.js';
import { isLoopbackHost } from '../protocol/addresses.js';

export type UplinkTlsOptions = {
  /** PEM file of the CA that must have issued the control plane's certificate. */
  caFile?: string;
  /** SHA-256 fingerprint of the control plane's certificate, hex with or without colons. */
  fingerprint?: string;
  /** Allows `ws://` to a host that is not loopback; the token then travels in clear text. */
  allowInsecure?: boolean;
};

/** Normalizes a SHA-256 fingerprint to lower-case hex without colons. */
export function normalizeFingerprint(text: string): string {
  return text.replaceAll(':', '').toLowerCase();
}

/**
 * Checks that a control-plane URL is `wss://`, or `ws://` to a loopback host or with
 * `allowInsecure`. Throws `CONFIG_INVALID`.
 */
export function checkUplinkUrl(url: string, allowInsecure: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new AgentError('CONFIG_INVALID', `Control-plane URL "${url}" is not a valid URL`, {
      cause: error,
    });
  }

  if (parsed.protocol === 'wss:') {
    return parsed;
  }

  if (parsed.protocol === 'ws:' && (allowInsecure || isLoopbackHost(parsed.hostname))) {
    return parsed;
  }

  throw new AgentError(
    'CONFIG_INVALID',
    `Control-plane URL "${url}" must use wss:// (ws:// only to loopback or with allowInsecure)`,
  );
}

/**
 * Builds the `ws` client options that verify the control plane's certificate: against the
 * system CAs by default, against `caFile` when given, or only against the pinned fingerprint.
 * With a pin, the request (and so the token) is held back until the fingerprint matched,
 * because Node skips `checkServerIdentity` for certificates that fail chain verification.
 */
export async function tlsClientOptions(options: UplinkTlsOptions): Promise<ClientOptions> {
  if (options.fingerprint !== undefined) {
    const expected = normalizeFingerprint(options.fingerprint);
    return {
      rejectUnauthorized: false,
      finishRequest: (request: ClientRequest) => finishAfterPinCheck(request, expected),
    };
  }

  if (options.caFile !== undefined) {
    return { ca: [await readCaBundle(options.caFile)] };
  }

  return {};
}

/** Matches each PEM certificate block of a CA bundle. */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads a CA bundle and checks that it contains at least one PEM certificate and that each one
 * parses. Throws CONFIG_INVALID naming the file, at start and in `check-config`, so that a bad
 * file stops the agent with the configuration exit code instead of failing every connect.
 */
export async function readCaBundle(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw caFileInvalid(file, `cannot be read (${errorMessage(error)})`, error);
  }

  const blocks = bytes.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw caFileInvalid(file, 'contains no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }

  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw caFileInvalid(file, `has an invalid certificate at position ${index + 1}`, error);
    }
  }

  return bytes;
}

function caFileInvalid(file: string, problem: string, cause?: unknown): AgentError {
  return new AgentError(
    'CONFIG_INVALID',
    `controlPlane.caFile ${file} ${problem}; point it at the PEM file of the CA that issued the control plane's certificate`,
    { cause, details: { path: 'controlPlane.caFile', file } },
  );
}

function finishAfterPinCheck(request: ClientRequest, expected: string): void {
  request.once('socket', (socket) => {
    const tlsSocket = socket as TLSSocket;
    tlsSocket.once('secureConnect', () => {
      const actual = normalizeFingerprint(tlsSocket.getPeerCertificate().fingerprint256 ?? '');
      if (actual === expected) {
        request.end();
        return;
      }

      request.destroy(
        new AgentError(
          'UPLINK_TLS_FAILED',
          `Control-plane certificate fingerprint ${actual} does not match the pinned ${expected}`,
        ),
      );
    });
  });
}
