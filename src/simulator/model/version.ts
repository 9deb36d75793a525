import type { RouterOsVersion } from './types.js';

const VERSION_TEXT = /^([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:(rc|beta)([0-9]+))?$/;

/**
 * Parses a RouterOS version as `/system resource print` shows it: `7.18.2`, `6.49.10`,
 * `6.43rc4`, `7.1beta6`. A beta counts as a release candidate.
 */
export function parseVersion(text: string): RouterOsVersion {
  const match = VERSION_TEXT.exec(text.trim());
  if (match === null) {
    throw new TypeError(
      `RouterOS version "${text}" is invalid; expected major.minor[.patch][rcN], e.g. 7.18.2 or 6.43rc4`,
    );
  }

  const [, major, minor, patch, , rc] = match;
  const version: RouterOsVersion = {
    text: text.trim(),
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch ?? 0),
  };
  if (rc !== undefined) {
    version.rc = Number(rc);
  }

  return version;
}

/**
 * Reports whether `version` is at least `major.minor.patch`. A release candidate counts as
 * before the release of the same number.
 */
export function isAtLeast(
  version: RouterOsVersion,
  major: number,
  minor: number,
  patch = 0,
): boolean {
  const own = [version.major, version.minor, version.patch];
  const wanted = [major, minor, patch];
  for (let i = 0; i < 3; i += 1) {
    const difference = (own[i] ?? 0) - (wanted[i] ?? 0);
    if (difference !== 0) {
      return difference > 0;
    }
  }

  return version.rc === undefined;
}
