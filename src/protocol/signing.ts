import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { AgentError } from '../errors.js';
import type { JobOfferBody } from './messages.js';

/** Domain-separation tag at the head of every signed byte form, so no other data verifies. */
export const SIGNED_JOB_TAG = 'routeros-edge-agent/job/v1';

/** The signed fields of a job offer: everything but the signature itself. */
export type SignedJobFields = Omit<JobOfferBody, 'authorization'> & {
  authorization: Omit<JobOfferBody['authorization'], 'signature'>;
};

/**
 * Returns the canonical byte form of a job's signed fields: the UTF-8 bytes of
 * `JSON.stringify` (ECMA-262) applied to one array in this fixed order:
 *
 *   [tag, id, siteId, description, script, targets, launchAt, expiresAt, makeBackup,
 *    maxConcurrency, maxErrors, runTimeoutMs, authorizedBy, authorizedAt, keyId]
 *
 * `targets` is the string `all` or the array of device ids in offer order; an absent limit is
 * `null`. Every number is a safe integer, so its JSON text has exactly one form, and
 * `JSON.stringify` writes strings in one form too (lone surrogates as `\uXXXX` escapes).
 */
export function canonicalJobBytes(job: SignedJobFields): Buffer {
  const fields = [
    SIGNED_JOB_TAG,
    job.id,
    job.siteId,
    job.description,
    job.script,
    job.targets,
    job.launchAt,
    job.expiresAt,
    job.makeBackup,
    job.limits.maxConcurrency ?? null,
    job.limits.maxErrors ?? null,
    job.limits.runTimeoutMs ?? null,
    job.authorization.authorizedBy,
    job.authorization.authorizedAt,
    job.authorization.keyId,
  ];

  return Buffer.from(JSON.stringify(fields), 'utf8');
}

/** An Ed25519 public key and the id that names it in job offers. */
export type VerificationKey = { keyId: string; key: KeyObject };

/** Encodes a public key the way agents' configs pin it: base64 of the 32 raw key bytes. */
export function encodePublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.x === undefined) {
    throw new AgentError('CONFIG_INVALID', 'Signing key is not an Ed25519 key');
  }

  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** Key id of a public key: the first 16 hex digits of SHA-256 over its raw bytes. */
export function keyIdOf(key: KeyObject): string {
  const raw = Buffer.from(encodePublicKey(key), 'base64');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/**
 * Parses a pinned public key (base64 of the 32 raw Ed25519 bytes). Throws `CONFIG_INVALID`
 * naming the value's position when it is not one.
 */
export function parsePublicKey(text: string): VerificationKey {
  const raw = Buffer.from(text.trim(), 'base64');
  if (raw.length !== 32) {
    throw new AgentError(
      'CONFIG_INVALID',
      `Public key "${text.slice(0, 60)}" is not 32 bytes of base64; copy the key that "edge-control-plane keygen" printed`,
    );
  }

  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });

  return { keyId: keyIdOf(key), key };
}

/** Generates an Ed25519 key pair and returns the private key as PKCS #8 PEM. */
export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** A loaded signing key with its public half and key id. */
export type SigningKey = { privateKey: KeyObject; publicKey: KeyObject; keyId: string };

/** Loads a PKCS #8 PEM Ed25519 private key. Throws `CONFIG_INVALID` for anything else. */
export function loadSigningKey(pem: string, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new AgentError('CONFIG_INVALID', `Signing key file ${source} is not a PEM private key`, {
      cause: error,
    });
  }

  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AgentError(
      'CONFIG_INVALID',
      `Signing key file ${source} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; it must be Ed25519`,
    );
  }

  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Signs a job's fields and returns the base64 signature. */
export function signJob(job: SignedJobFields, key: SigningKey): string {
  return sign(null, canonicalJobBytes(job), key.privateKey).toString('base64');
}

/** Checks a base64 signature over a job's fields against one key. Never throws. */
export function verifyJobSignature(
  job: SignedJobFields,
  signature: string,
  key: KeyObject,
): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== signature) {
    return false;
  }

  try {
    return verify(null, canonicalJobBytes(job), key, bytes);
  } catch {
    return false;
  }
}
