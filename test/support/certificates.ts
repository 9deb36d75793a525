import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateCertificate } from '../../src/simulator/api/tls.js';

/** A self-signed certificate for 127.0.0.1 and its files. */
export type TestCertificate = {
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint as lower-case hex without colons. */
  fingerprint: string;
};

/** Writes a new self-signed P-256 certificate for 127.0.0.1 and its key into `dir`. */
export async function createTestCertificate(
  dir: string,
  name = 'server',
): Promise<TestCertificate> {
  const certificate = await generateCertificate('127.0.0.1');
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await writeFile(certFile, certificate.certPem);
  await writeFile(keyFile, certificate.keyPem, { mode: 0o600 });
  return { certFile, keyFile, fingerprint: certificate.fingerprint };
}
