// @peculiar/x509 resolves its dependencies through tsyringe, which needs the Reflect metadata
// polyfill loaded before it.
import 'reflect-metadata';

import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';

import * as x509 from '@peculiar/x509';

/** A PEM certificate and key for API-SSL, with the fingerprint clients pin. */
export type SimulatorCertificate = {
  certPem: string;
  keyPem: string;
  /** SHA-256 fingerprint as lower-case hex without colons. */
  fingerprint: string;
};

const SIGNING_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const VALIDITY_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/**
 * Generates a self-signed ECDSA P-256 certificate such as `/certificate add ... sign` makes on a
 * router, valid for ten years from now. `commonName` also goes into the subject alternative
 * names when it is an IP address or a DNS name.
 */
export async function generateCertificate(commonName: string): Promise<SimulatorCertificate> {
  const keys = await webcrypto.subtle.generateKey(SIGNING_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto
      .getRandomValues(Buffer.alloc(8))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + VALIDITY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([alternativeName(commonName)])],
  });

  const certPem = certificate.toString('pem');
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = toPem('PRIVATE KEY', pkcs8);
  return { certPem, keyPem, fingerprint: fingerprintOf(certPem) };
}

function fingerprintOf(certPem: string): string {
  return new NodeX509Certificate(certPem).fingerprint256.replaceAll(':', '').toLowerCase();
}

function alternativeName(commonName: string): x509.JsonGeneralName {
  const isAddress = /^[\d.]+$/.test(commonName) || commonName.includes(':');
  return isAddress ? { type: 'ip', value: commonName } : { type: 'dns', value: commonName };
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * TLS options of an API-SSL service. With a certificate: ordinary TLS. Without one, as a router
 * with no certificate in `/ip service`: anonymous Diffie-Hellman only, which Node's OpenSSL
 * offers only at security level 0 and only up to TLS 1.2.
 */
export function apiSslOptions(certificate: SimulatorCertificate | undefined): SecureContextOptions {
  if (certificate !== undefined) {
    return { cert: certificate.certPem, key: certificate.keyPem };
  }

  return {
    ciphers: ANONYMOUS_CIPHERS,
    maxVersion: 'TLSv1.2',
    dhparam: 'auto',
  };
}

/** The cipher string a client needs for a router without a certificate. */
export const ANONYMOUS_CIPHERS = 'ADH-AES256-GCM-SHA384:@SECLEVEL=0';

/**
 * Loads the certificate and key kept in `directory` (`api-ssl.crt`, `api-ssl.key`), generating
 * and saving them when missing, so a restarted fleet presents the certificate clients pinned.
 */
export async function loadOrCreateCertificate(
  directory: string,
  commonName: string,
): Promise<SimulatorCertificate> {
  const certPath = join(directory, 'api-ssl.crt');
  const keyPath = join(directory, 'api-ssl.key');
  try {
    const [certPem, keyPem] = await Promise.all([
      readFile(certPath, 'utf8'),
      readFile(keyPath, 'utf8'),
    ]);
    return { certPem, keyPem, fingerprint: fingerprintOf(certPem) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
  }

  const certificate = await generateCertificate(commonName);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFile(certPath, certificate.certPem);
  await writeFile(keyPath, certificate.keyPem, { mode: 0o600 });
  return certificate;
}
