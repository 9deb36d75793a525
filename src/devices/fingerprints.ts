import { createHash } from 'node:crypto';

/**
 * Fingerprints as users see them elsewhere: SSH host keys as OpenSSH prints them
 * (`SHA256:` and unpadded base64), TLS certificates as colon-separated upper-case hex.
 */

/** Computes the OpenSSH SHA-256 fingerprint of a host key blob. */
export function sshHostKeyFingerprint(keyBlob: Buffer): string {
  const digest = createHash('sha256').update(keyBlob).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * Normalizes an SSH fingerprint for comparison: the `SHA256:` prefix is optional in
 * configuration, and the base64 padding is dropped.
 */
export function normalizeSshFingerprint(fingerprint: string): string {
  const bare = fingerprint.trim().replace(/^SHA256:/i, '');
  return `SHA256:${bare.replace(/=+$/, '')}`;
}

/**
 * Normalizes a TLS certificate SHA-256 fingerprint, given as hex with or without colons, to
 * colon-separated upper-case hex. Returns undefined when it is not 32 bytes of hex.
 */
export function normalizeCertificateFingerprint(fingerprint: string): string | undefined {
  const hex = fingerprint.trim().replaceAll(':', '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    return undefined;
  }

  return hex.match(/../g)?.join(':');
}
