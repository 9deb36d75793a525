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
 * Checks an `Authorization` header against the token in constant time: both sides are hashed
 * first, so neither the comparison nor an early length mismatch reveals the token's length or
 * a matching prefix.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  const presented = match?.[1] ?? '';
  const expected = createHash('sha256').update(token, 'utf8').digest();
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(expected, actual) && presented !== '';
}
