import { z } from 'zod';
import { AgentError } from '../../errors.js';
import { LIMITS } from '../../protocol/limits.js';
import type { ScheduledScript, ScriptDraft } from '../types.js';

/** Second 60 of an RFC 3339 time, which only a leap second has. */
const LEAP_SECOND = /T\d{2}:\d{2}:60(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * An RFC 3339 date-time with an offset. RFC 3339 allows a lower-case `t` and `z`, which are
 * upper-cased before the check. A leap second is rejected because `Date` cannot represent it.
 */
const isoDateTime = z
  .string()
  .refine((text) => !LEAP_SECOND.test(text), {
    message: 'a leap second (second 60) is not supported; use second 59 or the next minute',
    abort: true,
  })
  .transform((text) => text.toUpperCase())
  .pipe(z.iso.datetime({ offset: true }));

/**
 * Range of instants that RFC 3339 can write in UTC, because its years have four digits. An
 * offset can move a written time outside it, as `9999-12-31T23:00:00-05:00` does.
 */
const RFC3339_RANGE_MS = {
  min: Date.parse('0000-01-01T00:00:00.000Z'),
  max: Date.parse('9999-12-31T23:59:59.999Z'),
};

/** Body of `POST /scripts/scheduled` and `PUT /scripts/scheduled/{id}`. */
const scriptBodySchema = z.strictObject({
  description: z.string().min(1).max(LIMITS.maxLongText),
  script: z
    .string()
    .min(1)
    .refine((text) => Buffer.byteLength(text, 'utf8') <= LIMITS.maxScriptBytes, {
      message: `must be at most ${LIMITS.maxScriptBytes} bytes of UTF-8`,
    }),
  launch_at: isoDateTime,
  expires_at: isoDateTime.optional(),
  sites: z
    .array(z.uuid())
    .min(1)
    .max(10_000)
    .refine((sites) => new Set(sites).size === sites.length, { message: 'must not repeat a site' }),
  make_backup: z.boolean().default(false),
  test_site_id: z.uuid().optional(),
});

export type DraftDefaults = {
  /** Expiry after launch when the body has no `expires_at`, in milliseconds. */
  defaultExpiryMs: number;
  now: number;
  siteExists: (siteId: string) => boolean;
};

/**
 * Validates a request body and returns the draft it describes. Throws `REQUEST_INVALID` naming
 * the first invalid field.
 */
export function parseScriptBody(body: unknown, defaults: DraftDefaults): ScriptDraft {
  const parsed = scriptBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? '' : formatPath(issue.path);
    throw invalid(field, `is invalid: ${issue?.message ?? 'schema mismatch'}`);
  }

  const value = parsed.data;
  const launchAt = Date.parse(value.launch_at);
  const expiresAt =
    value.expires_at === undefined
      ? launchAt + defaults.defaultExpiryMs
      : Date.parse(value.expires_at);
  checkRange('launch_at', launchAt);
  checkRange(value.expires_at === undefined ? 'launch_at' : 'expires_at', expiresAt);
  if (expiresAt <= launchAt) {
    throw invalid('expires_at', 'must be later than launch_at');
  }

  if (expiresAt <= defaults.now) {
    throw invalid(value.expires_at === undefined ? 'launch_at' : 'expires_at', 'is in the past');
  }

  value.sites.forEach((siteId, index) => {
    if (!defaults.siteExists(siteId)) {
      throw invalid(`sites[${index}]`, `names the unknown site ${siteId}`);
    }
  });
  if (value.test_site_id !== undefined && !defaults.siteExists(value.test_site_id)) {
    throw invalid('test_site_id', `names the unknown site ${value.test_site_id}`);
  }

  return {
    description: value.description,
    script: value.script,
    launchAt,
    expiresAt,
    sites: value.sites,
    makeBackup: value.make_backup,
    ...(value.test_site_id === undefined ? {} : { testSiteId: value.test_site_id }),
  };
}

/**
 * Rejects an instant, given or derived from `field`, that RFC 3339 cannot write in UTC, so
 * that every returned timestamp is valid.
 */
function checkRange(field: string, instantMs: number): void {
  if (instantMs < RFC3339_RANGE_MS.min || instantMs > RFC3339_RANGE_MS.max) {
    throw invalid(
      field,
      'is out of range: launch_at and expires_at (launch_at plus the default expiry when absent) must fall between 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in UTC',
    );
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`,
    )
    .join('');
}

function invalid(field: string, problem: string): AgentError {
  return new AgentError('REQUEST_INVALID', `Field "${field || '(body)'}" ${problem}`, {
    details: { field },
  });
}

/** Builds the API JSON of a scheduled script; its status reads `launched` once an authorized script passed its launch time. */
export function scriptResource(script: ScheduledScript, now: number): Record<string, unknown> {
  const launched = script.status === 'authorized' && script.launchAt <= now;

  return {
    id: script.id,
    description: script.description,
    script: script.script,
    launch_at: new Date(script.launchAt).toISOString(),
    expires_at: new Date(script.expiresAt).toISOString(),
    sites: script.sites,
    make_backup: script.makeBackup,
    test_site_id: script.testSiteId ?? null,
    status: launched ? 'launched' : script.status,
    authorized_by: script.authorizedBy ?? null,
    authorized_at:
      script.authorizedAt === undefined ? null : new Date(script.authorizedAt).toISOString(),
    created_by: script.createdBy,
    created_at: new Date(script.createdAt).toISOString(),
    updated_at: new Date(script.updatedAt).toISOString(),
  };
}
