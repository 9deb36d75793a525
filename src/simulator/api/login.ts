import { randomBytes } from 'node:crypto';

import type { DeviceFaults } from '../fleet/faults.js';
import type { UserDirectory } from '../fleet/users.js';
import type { ApiRow, RouterOsVersion } from '../model/types.js';
import { versionFeatures } from '../version-features.js';
import { type ApiRequest, attributeValue } from './request.js';

/** Outcome of one `/login` sentence: a challenge, a logged-in user or a failure text. */
export type LoginOutcome =
  | { kind: 'challenge'; challenge: Buffer; ret: ApiRow }
  | { kind: 'success'; user: string }
  | { kind: 'failure'; message: string };

export type LoginContext = {
  version: RouterOsVersion;
  users: UserDirectory;
  faults: DeviceFaults;
  /** Challenge sent earlier on this connection, if any. */
  challenge: Buffer | undefined;
};

/**
 * Runs one `/login` sentence the way the configured RouterOS version does:
 *
 * - before 6.43, any `/login` without `=response=` (even one with `=password=`) returns a
 *   16-byte challenge as `=ret=<32 hex>`, and `=name= =response=` completes the login;
 * - the 6.43 release candidates up to 6.45.0 accept both the challenge and
 *   `=name= =password=`;
 * - from 6.45.1 only `=name= =password=` logs in; a challenge is still handed out for a bare
 *   `/login`, but every `=response=` fails.
 */
export function runLogin(request: ApiRequest, context: LoginContext): LoginOutcome {
  const name = attributeValue(request, 'name');
  const password = attributeValue(request, 'password');
  const response = attributeValue(request, 'response');
  const { version } = context;

  if (response !== undefined) {
    return checkResponse(name ?? '', response, context);
  }

  if (name === undefined || !versionFeatures.acceptsPlainLogin(version)) {
    const challenge = randomBytes(16);
    return { kind: 'challenge', challenge, ret: [['ret', challenge.toString('hex')]] };
  }

  if (!context.faults.has('auth-fail') && context.users.checkPassword(name, password ?? '')) {
    return { kind: 'success', user: name };
  }

  return failure(version);
}

function checkResponse(name: string, response: string, context: LoginContext): LoginOutcome {
  const { challenge, version } = context;
  const accepted =
    versionFeatures.acceptsChallengeLogin(version) &&
    challenge !== undefined &&
    !context.faults.has('auth-fail') &&
    context.users.checkChallengeResponse(name, challenge, response);

  return accepted ? { kind: 'success', user: name } : failure(version);
}

function failure(version: RouterOsVersion): LoginOutcome {
  return { kind: 'failure', message: versionFeatures.failedLoginMessage(version) };
}
