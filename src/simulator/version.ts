import { AgentError } from '../errors.js';
import type { RouterOsVersion } from './model/types.js';

const VERSION_PATTERN = /^(\d+)\.(\d+)(?:\.(\d+))?(?:(?:rc|beta)(\d+))?$/;

/**
 * Parses a RouterOS version as printed by `/system/resource print`: `7.18.2`, `6.43rc4`, or
 * `7.18.2 (stable)` with the channel dropped. Beta numbers count like release-candidate numbers.
 */
export function parseRouterOsVersion(text: string): RouterOsVersion {
  const bare = text.trim().replace(/\s*\([a-z-]+\)$/, '');
  const match = VERSION_PATTERN.exec(bare);
  if (match === null) {
    throw new AgentError(
      'CONFIG_INVALID',
      `invalid RouterOS version "${text}"; expected a version such as 7.18.2, 6.49.10 or 6.43rc4`,
      { details: { version: text } },
    );
  }

  const version: RouterOsVersion = {
    text: bare,
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
  };
  if (match[4] !== undefined) {
    version.rc = Number(match[4]);
  }

  return version;
}

/**
 * Reports whether `version` is `major.minor.patch` or later. A release candidate of a version
 * comes before its release, so `6.43rc4` is not at least `6.43`.
 */
export function isAtLeast(version: RouterOsVersion, major: number, minor: number, patch = 0) {
  const order = compareNumbers(
    [version.major, version.minor, version.patch],
    [major, minor, patch],
  );

  return order > 0 || (order === 0 && version.rc === undefined);
}

function compareNumbers(left: readonly number[], right: readonly number[]): number {
  for (let index = 0; index < left.length; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) {
      return difference;
    }
  }

  return 0;
}

/**
 * Version-dependent behaviour of the API and SSH servers, from RouterOS release notes and
 * client libraries' bug reports.
 */
export const versionFeatures = {
  /** `/login =name= =password=` exists from the 6.43 release candidates on. */
  acceptsPlainLogin(version: RouterOsVersion): boolean {
    return version.major > 6 || (version.major === 6 && version.minor >= 43);
  },

  /** Reports whether the MD5 challenge-response login works, which 6.45.1 removed. */
  acceptsChallengeLogin(version: RouterOsVersion): boolean {
    return !isAtLeast(version, 6, 45, 1);
  },

  /** Before the 6.43 release candidates a failed login is `cannot log in`. */
  failedLoginMessage(version: RouterOsVersion): string {
    return this.acceptsPlainLogin(version) ? 'invalid user name or password (6)' : 'cannot log in';
  },

  /** From 7.18 a print or query that finds nothing replies `!empty` before `!done`. */
  answersEmpty(version: RouterOsVersion): boolean {
    return isAtLeast(version, 7, 18);
  },
} as const;
