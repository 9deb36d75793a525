import type { IncomingHttpHeaders } from 'node:http';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AgentError } from '../../errors.js';

/** Scopes of the Scripts API, one per kind of operation. */
export const SCOPES = [
  'script:view',
  'script:create',
  'script:update',
  'script:delete',
  'script:run',
  'script:authorize',
] as const;

export type Scope = (typeof SCOPES)[number];

/** The caller of an API request, from a verified token. */
export type Principal = { subject: string; scopes: ReadonlySet<string> };

export type TokenSettings = {
  /** HMAC secret of HS256. */
  secret: Uint8Array;
  issuer: string;
  audience: string;
};

/** Returns the bearer token of an `Authorization` header, or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  if (header === undefined) {
    return undefined;
  }

  const match = /^Bearer +([^ ]+) *$/i.exec(header);
  return match?.[1];
}

/**
 * Verifies an HS256 JWT (signature, `iss`, `aud`, `exp`, `nbf`) and returns its subject and
 * scopes, read from the space-separated `scope` claim. Throws `UNAUTHORIZED`.
 */
export async function verifyApiToken(
  token: string | undefined,
  settings: TokenSettings,
  now: number,
): Promise<Principal> {
  if (token === undefined) {
    throw new AgentError(
      'UNAUTHORIZED',
      'Missing bearer token; send "Authorization: Bearer <JWT>"',
    );
  }

  try {
    const { payload } = await jwtVerify(token, settings.secret, {
      algorithms: ['HS256'],
      issuer: settings.issuer,
      audience: settings.audience,
      currentDate: new Date(now),
      requiredClaims: ['sub', 'exp'],
    });
    const scope = typeof payload.scope === 'string' ? payload.scope : '';

    return {
      subject: payload.sub ?? '',
      scopes: new Set(scope.split(' ').filter((item) => item.length > 0)),
    };
  } catch (error) {
    const reason =
      error instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
    throw new AgentError('UNAUTHORIZED', `Bearer token rejected because ${reason}`, {
      cause: error,
    });
  }
}

/** Throws `FORBIDDEN` unless the principal holds `scope`. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new AgentError(
      'FORBIDDEN',
      `Token of "${principal.subject}" lacks the scope ${scope} this request needs`,
      { details: { scope } },
    );
  }
}

export type MintOptions = {
  subject: string;
  scopes: readonly string[];
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** Issue time in milliseconds since the epoch. */
  now: number;
};

/** Mints an HS256 JWT for development and tests. */
export function mintApiToken(settings: TokenSettings, options: MintOptions): Promise<string> {
  const issuedAt = Math.floor(options.now / 1000);
  return new SignJWT({ scope: options.scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + options.ttlSeconds)
    .sign(settings.secret);
}
