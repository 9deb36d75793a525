import type { RouterOsVersion } from './model/types.js';
import { isAtLeast } from './model/version.js';

/**
 * Version-dependent behaviour of the API and SSH servers, from RouterOS release notes and
 * client libraries' bug reports.
 */
export const versionFeatures = {
  /** Reports whether `/login =name= =password=` works, which the 6.43 release candidates added. */
  acceptsPlainLogin(version: RouterOsVersion): boolean {
    return version.major > 6 || (version.major === 6 && version.minor >= 43);
  },

  /** Reports whether the MD5 challenge-response login works, which 6.45.1 removed. */
  acceptsChallengeLogin(version: RouterOsVersion): boolean {
    return !isAtLeast(version, 6, 45, 1);
  },

  /** Returns the failed-login text: `cannot log in` before the 6.43 release candidates. */
  failedLoginMessage(version: RouterOsVersion): string {
    return versionFeatures.acceptsPlainLogin(version)
      ? 'invalid user name or password (6)'
      : 'cannot log in';
  },

  /** Reports whether a print or query that finds nothing replies `!empty`, new in 7.18. */
  answersEmpty(version: RouterOsVersion): boolean {
    return isAtLeast(version, 7, 18);
  },
} as const;
