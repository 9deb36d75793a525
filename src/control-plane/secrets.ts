import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AgentError } from '../errors.js';
import { generateSigningKeyPem, loadSigningKey, type SigningKey } from '../protocol/signing.js';

/** Fewest bytes a JWT HMAC secret may have: the output size of SHA-256. */
const MIN_JWT_SECRET_BYTES = 32;

/** Result of loading a secret that may have been created just now. */
export type Loaded<T> = { value: T; created: boolean };

async function readOrCreate(file: string, create: () => string): Promise<Loaded<string>> {
  try {
    return { value: await readFile(file, 'utf8'), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AgentError('SECRET_UNREADABLE', `Cannot read secret file ${file}`, {
        cause: error,
        details: { file },
      });
    }
  }

  const value = create();
  await mkdir(path.dirname(file), { recursive: true });
  // The `wx` flag fails instead of overwriting a file another process created meanwhile.
  await writeFile(file, value, { mode: 0o600, flag: 'wx' });
  return { value, created: true };
}

/** Loads the Ed25519 signing key from `file`, generating it (mode 0600) when absent. */
export async function loadOrCreateSigningKey(file: string): Promise<Loaded<SigningKey>> {
  const { value, created } = await readOrCreate(file, generateSigningKeyPem);
  return { value: loadSigningKey(value, file), created };
}

/** Loads the JWT HMAC secret from `file`, generating 48 random bytes (base64url) when absent. */
export async function loadOrCreateJwtSecret(file: string): Promise<Loaded<Uint8Array>> {
  const { value, created } = await readOrCreate(file, () => randomBytes(48).toString('base64url'));
  const secret = new TextEncoder().encode(value.trim());
  if (secret.length < MIN_JWT_SECRET_BYTES) {
    throw new AgentError(
      'CONFIG_INVALID',
      `JWT secret file ${file} holds ${secret.length} bytes; it needs at least ${MIN_JWT_SECRET_BYTES}`,
      { details: { file } },
    );
  }

  return { value: secret, created };
}

/** Generates a site's agent token: 32 random bytes, base64url. */
export function generateSiteToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Hashes an agent token for the configuration. SHA-256 without salt is enough because tokens
 * are 256 random bits, which no dictionary or brute-force search reaches.
 */
export function hashSiteToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** Compares a presented token with a stored hash in constant time. */
export function siteTokenMatches(token: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'utf8');
  const actual = Buffer.from(hashSiteToken(token), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
