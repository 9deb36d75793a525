import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAgentError } from '../../src/errors.js';
import { verifyJobOffer } from '../../src/protocol/job-offer.js';
import { LIMITS } from '../../src/protocol/limits.js';
import {
  canonicalJobBytes,
  encodePublicKey,
  parsePublicKey,
  SIGNED_JOB_TAG,
} from '../../src/protocol/signing.js';
import { newSigningKey, signedOffer } from '../support/signed-offers.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const SITE = randomUUID();
const key = newSigningKey();
const pinned = [parsePublicKey(encodePublicKey(key.publicKey))];

function rejectionCode(raw: unknown, siteId = SITE, now = NOW): string | undefined {
  try {
    verifyJobOffer(raw, { keys: pinned, siteId, now });
    return undefined;
  } catch (error) {
    return isAgentError(error) ? error.code : 'not an AgentError';
  }
}

describe('job signing', () => {
  it('accepts a correctly signed offer', () => {
    const offer = signedOffer(key, SITE, NOW);

    const job = verifyJobOffer(offer, { keys: pinned, siteId: SITE, now: NOW });

    expect(job.id).toBe(offer.id);
    expect(job.limits).toEqual({ maxConcurrency: 2, maxErrors: 1, runTimeoutMs: 30_000 });
  });

  it('canonical form is a fixed tagged array', () => {
    const offer = signedOffer(key, SITE, NOW, { limits: {} });
    const fields = JSON.parse(canonicalJobBytes(offer).toString('utf8')) as unknown[];

    expect(fields[0]).toBe(SIGNED_JOB_TAG);
    expect(fields.slice(9, 12)).toEqual([null, null, null]);
    expect(fields).toHaveLength(15);
  });

  it('rejects an offer without signature', () => {
    const offer = signedOffer(key, SITE, NOW);
    const { signature: _removed, ...authorization } = offer.authorization;

    expect(rejectionCode({ ...offer, authorization })).toBe('JOB_UNSIGNED');
    expect(rejectionCode({ ...offer, authorization: { ...authorization, signature: '' } })).toBe(
      'JOB_UNSIGNED',
    );
  });

  it('rejects an offer signed by another key', () => {
    const forged = signedOffer(newSigningKey(), SITE, NOW);
    const forgedWithPinnedId = {
      ...forged,
      authorization: { ...forged.authorization, keyId: pinned[0]?.keyId ?? '' },
    };

    expect(rejectionCode(forged)).toBe('JOB_SIGNATURE_INVALID');
    expect(rejectionCode(forgedWithPinnedId)).toBe('JOB_SIGNATURE_INVALID');
  });

  it('rejects alteration of every signed field', () => {
    const offer = signedOffer(key, SITE, NOW);
    const alterations: Record<string, unknown> = {
      id: randomUUID(),
      description: 'Something else',
      script: '/system reset-configuration',
      targets: ['router-1'],
      launchAt: offer.launchAt + 1,
      expiresAt: offer.expiresAt + 1,
      makeBackup: false,
      limits: { ...offer.limits, maxErrors: 5 },
    };
    const authorizationAlterations: Record<string, unknown> = {
      authorizedBy: 'mallory',
      authorizedAt: offer.authorization.authorizedAt + 1,
    };

    for (const [field, value] of Object.entries(alterations)) {
      expect(rejectionCode({ ...offer, [field]: value }), field).toBe('JOB_SIGNATURE_INVALID');
    }

    for (const [field, value] of Object.entries(authorizationAlterations)) {
      const authorization = { ...offer.authorization, [field]: value };
      expect(rejectionCode({ ...offer, authorization }), field).toBe('JOB_SIGNATURE_INVALID');
    }
  });

  it('rejects a re-signed offer for another site', () => {
    const otherSite = signedOffer(key, randomUUID(), NOW);
    const moved = { ...signedOffer(key, SITE, NOW), siteId: randomUUID() };

    expect(rejectionCode(otherSite)).toBe('JOB_WRONG_SITE');
    expect(rejectionCode(moved)).toBe('JOB_SIGNATURE_INVALID');
  });

  it('rejects an expired offer', () => {
    const offer = signedOffer(key, SITE, NOW);

    expect(rejectionCode(offer, SITE, offer.expiresAt)).toBe('JOB_EXPIRED');
    expect(rejectionCode(offer, SITE, offer.expiresAt - 1)).toBeUndefined();
  });

  it('rejects malformed offers as invalid', () => {
    const offer = signedOffer(key, SITE, NOW);
    const cases: unknown[] = [
      null,
      'job',
      { ...offer, id: 'not-a-uuid' },
      { ...offer, launchAt: -1 },
      { ...offer, targets: [] },
      { ...offer, makeBackup: 'yes' },
      { ...offer, expiresAt: offer.launchAt },
      signedOffer(key, SITE, NOW, { script: 'x'.repeat(LIMITS.maxScriptBytes + 1) }),
    ];

    for (const raw of cases) {
      expect(rejectionCode(raw)).toBe('JOB_INVALID');
    }
  });

  it('rejects a signature with trailing garbage', () => {
    const offer = signedOffer(key, SITE, NOW);
    const authorization = {
      ...offer.authorization,
      signature: `${offer.authorization.signature}AA`,
    };

    expect(rejectionCode({ ...offer, authorization })).toBe('JOB_SIGNATURE_INVALID');
  });

  it('parsePublicKey rejects wrong lengths', () => {
    expect(() => parsePublicKey('AAAA')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
