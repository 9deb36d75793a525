import { readFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ClientOptions } from 'ws';
import { AgentError } from '../errors.js';
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
    try {
      return { ca: [await readFile(options.caFile)] };
    } catch (error) {
      throw new AgentError('CONFIG_INVALID', `Cannot read CA file ${options.caFile}`, {
        cause: error,
      });
    }
  }

  return {};
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
