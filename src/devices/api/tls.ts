import { readFileSync } from 'node:fs';
import type { ConnectionOptions, TLSSocket } from 'node:tls';

import { AgentError, errorMessage } from '../../errors.js';
import { normalizeCertificateFingerprint } from '../fingerprints.js';
import type { DeviceConfig, TrustStore } from '../types.js';

/**
 * The only cipher a router without a certificate offers: anonymous Diffie-Hellman. Node 20's
 * OpenSSL allows it only at security level 0 and only up to TLS 1.2.
 */
export const ANONYMOUS_TLS_OPTIONS: ConnectionOptions = {
  ciphers: 'ADH-AES256-GCM-SHA384:@SECLEVEL=0',
  maxVersion: 'TLSv1.2',
  rejectUnauthorized: false,
};

/**
 * Builds the TLS options of a device's API-SSL connection. With a CA file Node verifies the
 * chain and host name; otherwise verification is left to `verifyCertificate`, because routers
 * mostly have self-signed certificates.
 */
export function apiTlsOptions(device: DeviceConfig): ConnectionOptions {
  if (device.tls.mode === 'anonymous') {
    return { ...ANONYMOUS_TLS_OPTIONS };
  }

  const { caFile } = device.tls;
  if (caFile === undefined) {
    return { rejectUnauthorized: false };
  }

  try {
    return { ca: readFileSync(caFile), rejectUnauthorized: true };
  } catch (error) {
    throw new AgentError(
      'CONFIG_INVALID',
      `cannot read the CA file ${caFile} of device ${device.id}: ${errorMessage(error)}; fix tls.caFile`,
      { cause: error, details: { deviceId: device.id, caFile } },
    );
  }
}

/**
 * Returns the check run after the TLS handshake and before credentials are sent. In certificate
 * mode without a CA file, the certificate's SHA-256 fingerprint must equal the configured one,
 * or the pinned one; the first one seen is pinned. Anonymous mode has nothing to check.
 */
export function certificateVerifier(
  device: DeviceConfig,
  trust: TrustStore,
): ((socket: TLSSocket) => void) | undefined {
  if (device.tls.mode === 'anonymous' || device.tls.caFile !== undefined) {
    return undefined;
  }

  return (socket) => {
    const seen = peerFingerprint(device, socket);
    const configured = device.tls.fingerprint;
    if (configured !== undefined) {
      requireConfiguredFingerprint(device, configured, seen);
      return;
    }

    const pinned = trust.get(device.id, 'tls-certificate');
    if (pinned === undefined) {
      trust.pin(device.id, 'tls-certificate', seen);
      return;
    }

    if (normalizeCertificateFingerprint(pinned) !== seen) {
      throw new AgentError(
        'TLS_FAILED',
        `the TLS certificate of device ${device.id} changed: pinned ${pinned}, presented ${seen}; if the router's certificate was replaced on purpose, remove the old pin or configure tls.fingerprint`,
        { details: { deviceId: device.id, pinned, presented: seen } },
      );
    }
  };
}

function peerFingerprint(device: DeviceConfig, socket: TLSSocket): string {
  const certificate = socket.getPeerX509Certificate();
  const fingerprint =
    certificate === undefined
      ? undefined
      : normalizeCertificateFingerprint(certificate.fingerprint256);
  if (fingerprint === undefined) {
    throw new AgentError(
      'TLS_FAILED',
      `device ${device.id} presented no TLS certificate; set tls.mode to anonymous if the router has none`,
      { details: { deviceId: device.id } },
    );
  }

  return fingerprint;
}

function requireConfiguredFingerprint(
  device: DeviceConfig,
  configured: string,
  seen: string,
): void {
  const expected = normalizeCertificateFingerprint(configured);
  if (expected !== seen) {
    // Both in one form, so an operator can compare them by eye.
    throw new AgentError(
      'TLS_FAILED',
      `the TLS certificate of device ${device.id} does not match the configured fingerprint: expected ${expected ?? configured}, presented ${seen}; check tls.fingerprint against the router's certificate`,
      { details: { deviceId: device.id, expected: expected ?? configured, presented: seen } },
    );
  }
}
