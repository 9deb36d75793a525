import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1 and its files. */
export type TestCertificate = {
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint as Node prints it (upper-case hex with colons). */
  fingerprint: string;
};

/**
 * Creates a self-signed P-256 certificate for 127.0.0.1 and localhost in `dir` with the
 * `openssl` command, because Node has no API that issues certificates.
 */
export async function createTestCertificate(
  dir: string,
  name = 'server',
): Promise<TestCertificate> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const certificate = new X509Certificate(await readFile(certFile));
  return { certFile, keyFile, fingerprint: certificate.fingerprint256 };
}
