import { timingSafeEqual } from 'node:crypto';

import type { AuthContext, AuthenticationType, PublicKeyAuthContext } from 'ssh2';

import type { Logger } from '../../logging.js';
import type { DeviceFaults } from '../fleet/faults.js';
import type { SimulatedUser, UserDirectory } from '../fleet/users.js';
import { splitLoginName } from './login-name.js';

const METHODS: AuthenticationType[] = ['publickey', 'password'];

/**
 * Decides one SSH authentication attempt as RouterOS does: options after `+` in the login name
 * are dropped first; a public key must be one of the user's keys and carry a valid signature;
 * a password is refused for a user with keys unless `always-allow-password-login` is set.
 * Returns the user name on success.
 */
export function authenticate(
  context: AuthContext,
  users: UserDirectory,
  faults: DeviceFaults,
  logger: Logger,
): string | undefined {
  const { user: name } = splitLoginName(context.username);
  const user = users.get(name);
  let accepted = false;

  if (user !== undefined && !faults.has('auth-fail')) {
    if (context.method === 'password') {
      accepted = passwordAllowed(user) && users.checkPassword(name, context.password);
    } else if (context.method === 'publickey') {
      accepted = checkPublicKey(context, user);
      if (accepted && context.signature === undefined) {
        // The client only asked whether this key would do; the signed attempt follows.
        context.accept();
        return undefined;
      }
    }
  }

  if (!accepted) {
    if (context.method !== 'none') {
      logger.info({ user: name, method: context.method }, 'ssh authentication failed');
    }

    context.reject(METHODS);
    return undefined;
  }

  context.accept();
  return name;
}

function passwordAllowed(user: SimulatedUser): boolean {
  return user.authorizedKeys.length === 0 || user.alwaysAllowPasswordLogin;
}

function checkPublicKey(context: PublicKeyAuthContext, user: SimulatedUser): boolean {
  const key = user.authorizedKeys.find((candidate) =>
    sameBytes(candidate.getPublicSSH(), context.key.data),
  );
  if (key === undefined) {
    return false;
  }

  if (context.signature === undefined || context.blob === undefined) {
    return true;
  }

  return key.verify(context.blob, context.signature, context.hashAlgo);
}

function sameBytes(left: Buffer, right: Buffer): boolean {
  return left.length === right.length && timingSafeEqual(left, right);
}
