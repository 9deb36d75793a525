import { createHash, timingSafeEqual } from 'node:crypto';
import { configInvalidError } from '../config/problems.js';
import type { StatusConfig } from '../config/types.js';
import { isLoopbackHost } from '../protocol/addresses.js';

/** Paths served without the token, so health checks need no secret; they reveal no job data. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/livez', '/readyz']);

/**
 * Checks the rule that keeps the status endpoint private: listening on any address other than
 * loopback requires a bearer token. Throws CONFIG_INVALID naming `status.tokenFile` otherwise.
 */
export function checkStatusExposure(status: StatusConfig, configFile: string): void {
  if (status.tokenFile !== undefined || isLoopbackHost(status.listen.host)) {
    return;
  }

  throw configInvalidError(configFile, [
    {
      path: 'status.tokenFile',
      expected: `a token file or credential, because status.listen ${status.listen.host} is not a loopback address`,
      found: 'nothing',
    },
  ]);
}

/**
 * Challenges sent with a 401. Basic comes first, so a browser shows a login dialog whose
 * password is the token. Bearer is for programs.
 */
export const AUTH_CHALLENGES: readonly string[] = [
  'Basic realm="edge-agent", charset="UTF-8"',
  'Bearer realm="edge-agent"',
];

/**
 * Checks an `Authorization` header against the token in constant time. It accepts
 * `Bearer <token>`, and `Basic` with any user name and the token as the password, which is what
 * a browser sends from its login dialog. Both sides are hashed first, so neither the comparison
 * nor an early length mismatch reveals the token's length or a matching prefix.
 */
export function authorizationMatches(header: string | undefined, token: string): boolean {
  const presented = presentedToken(header ?? '');
  const expected = createHash('sha256').update(token, 'utf8').digest();
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(expected, actual) && presented !== '';
}

/** Extracts the token from a Bearer or Basic header; returns an empty string when there is none. */
function presentedToken(header: string): string {
  const match = /^(Bearer|Basic) +(\S+) *$/i.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const credentials = match?.[2] ?? '';
  if (scheme === 'bearer') {
    return credentials;
  }

  if (scheme !== 'basic') {
    return '';
  }

  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? '' : decoded.slice(colon + 1);
}
