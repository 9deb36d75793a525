import { randomUUID } from 'node:crypto';
import { signJobOffer } from '../../src/protocol/job-offer.js';
import type { JobOfferBody } from '../../src/protocol/messages.js';
import {
  generateSigningKeyPem,
  loadSigningKey,
  type SigningKey,
} from '../../src/protocol/signing.js';

/** Generates a fresh Ed25519 signing key. */
export function newSigningKey(): SigningKey {
  return loadSigningKey(generateSigningKeyPem(), 'generated');
}

/** Builds a signed job offer body for `siteId`, valid from `now` for an hour. */
export function signedOffer(
  key: SigningKey,
  siteId: string,
  now: number,
  overrides: Partial<Omit<JobOfferBody, 'authorization'>> = {},
): JobOfferBody {
  return signJobOffer(
    {
      id: randomUUID(),
      siteId,
      description: 'Set the identity',
      script: '/system identity set name=edge',
      targets: ['router-1', 'router-2'],
      launchAt: now + 60_000,
      expiresAt: now + 3_600_000,
      makeBackup: true,
      limits: { maxConcurrency: 2, maxErrors: 1, runTimeoutMs: 30_000 },
      authorization: { authorizedBy: 'alice', authorizedAt: now - 1000 },
      ...overrides,
    },
    key,
  );
}
