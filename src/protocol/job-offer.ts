import { AgentError } from '../errors.js';
import type { Job, JobLimits } from '../jobs/types.js';
import { safeParse } from '../validation.js';
import { describeIssue } from './frames.js';
import { LIMITS } from './limits.js';
import { type JobOfferBody, jobOfferBodySchema } from './messages.js';
import {
  type SignedJobFields,
  type SigningKey,
  signJob,
  type VerificationKey,
  verifyJobSignature,
} from './signing.js';

/** A verified job, ready for the store's intake. `receivedAt` is set by the caller. */
export type VerifiedJob = Omit<Job, 'receivedAt'>;

export type VerifyOfferOptions = {
  /** The control plane's pinned public keys; an offer must be signed by one of them. */
  keys: readonly VerificationKey[];
  /** This agent's site id. */
  siteId: string;
  /** Current time in milliseconds since the epoch. */
  now: number;
};

/** Signs a job's fields with the control plane's key and returns the offer body. */
export function signJobOffer(
  fields: Omit<SignedJobFields, 'authorization'> & {
    authorization: Omit<SignedJobFields['authorization'], 'keyId'>;
  },
  key: SigningKey,
): JobOfferBody {
  const signed: SignedJobFields = {
    ...fields,
    authorization: { ...fields.authorization, keyId: key.keyId },
  };

  return {
    ...signed,
    authorization: { ...signed.authorization, signature: signJob(signed, key) },
  };
}

/** Extracts the job id of an offer that may be malformed, for the rejection reply. */
export function offeredJobId(raw: unknown): string | undefined {
  const parsed = safeParse(
    jobOfferBodySchema.shape.id,
    typeof raw === 'object' && raw !== null && 'id' in raw ? raw.id : undefined,
  );
  return parsed.success ? parsed.data : undefined;
}

/**
 * Verifies a job offer in this order and throws the first failure's code: malformed
 * (`JOB_INVALID`), unsigned (`JOB_UNSIGNED`), signature not valid for any pinned key or any
 * signed field altered (`JOB_SIGNATURE_INVALID`), another site's (`JOB_WRONG_SITE`), past its
 * expiry (`JOB_EXPIRED`). Nothing is stored before this returns.
 */
export function verifyJobOffer(raw: unknown, options: VerifyOfferOptions): VerifiedJob {
  const body = parseOffer(raw);
  const { signature, ...authorization } = body.authorization;
  if (signature === undefined || signature.length === 0) {
    throw new AgentError('JOB_UNSIGNED', `Job ${body.id} carries no signature; it was not stored`, {
      details: { jobId: body.id },
    });
  }

  const signed: SignedJobFields = { ...body, authorization };
  const key = options.keys.find((candidate) => candidate.keyId === authorization.keyId);
  if (key === undefined || !verifyJobSignature(signed, signature, key.key)) {
    throw new AgentError(
      'JOB_SIGNATURE_INVALID',
      `Job ${body.id} has no valid signature from a pinned control-plane key (key id ${authorization.keyId}); check that controlPlane.jobSigningKey has the keyId and publicKey that edge-control-plane keygen prints`,
      { details: { jobId: body.id, keyId: authorization.keyId } },
    );
  }

  if (body.siteId !== options.siteId) {
    throw new AgentError(
      'JOB_WRONG_SITE',
      `Job ${body.id} is for site ${body.siteId}, not this site ${options.siteId}`,
      { details: { jobId: body.id, siteId: body.siteId } },
    );
  }

  if (body.expiresAt <= options.now) {
    throw new AgentError(
      'JOB_EXPIRED',
      `Job ${body.id} expired at ${new Date(body.expiresAt).toISOString()}`,
      { details: { jobId: body.id, expiresAt: body.expiresAt } },
    );
  }

  return {
    ...body,
    limits: definedLimits(body.limits),
    authorization: { ...authorization, signature },
  };
}

/** Drops absent limits, because the store's `JobLimits` has no `undefined` values. */
function definedLimits(limits: JobOfferBody['limits']): JobLimits {
  const result: JobLimits = {};
  if (limits.maxConcurrency !== undefined) {
    result.maxConcurrency = limits.maxConcurrency;
  }

  if (limits.maxErrors !== undefined) {
    result.maxErrors = limits.maxErrors;
  }

  if (limits.runTimeoutMs !== undefined) {
    result.runTimeoutMs = limits.runTimeoutMs;
  }

  return result;
}

function parseOffer(raw: unknown): JobOfferBody {
  const parsed = safeParse(jobOfferBodySchema, raw);
  if (!parsed.success) {
    const { path, expected } = describeIssue(parsed.issues[0]);
    throw new AgentError('JOB_INVALID', `Job offer is invalid at "${path}": ${expected}`, {
      details: { jobId: offeredJobId(raw), path },
    });
  }

  const body = parsed.data;
  const scriptBytes = Buffer.byteLength(body.script, 'utf8');
  if (scriptBytes > LIMITS.maxScriptBytes) {
    throw new AgentError(
      'JOB_INVALID',
      `Job ${body.id} script of ${scriptBytes} bytes exceeds the limit of ${LIMITS.maxScriptBytes} bytes`,
      { details: { jobId: body.id, scriptBytes } },
    );
  }

  if (body.expiresAt <= body.launchAt) {
    throw new AgentError('JOB_INVALID', `Job ${body.id} expires at or before its launch time`, {
      details: { jobId: body.id },
    });
  }

  return body;
}
