import { createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';

import type { AuthContext, AuthenticationType, ParsedKey, PublicKeyAuthContext } from 'ssh2';

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

  return signatureValid(key, context.blob, context.signature, context.hashAlgo);
}

/** node:crypto forms of authorized keys, made on first use. */
const verifyingKeys = new WeakMap<ParsedKey, KeyObject>();

/** Hash ssh2 applies when the client names none, for the key types checked here. */
const FALLBACK_HASHES: Readonly<Record<string, string | null>> = {
  'ssh-ed25519': null,
  'ssh-rsa': 'sha1',
};

/**
 * Checks a login signature as ssh2's `key.verify` does, with Ed25519 and RSA keys parsed once:
 * ssh2 passes the PEM text to node:crypto, which parses it for every login (0.19 against
 * 0.11 ms for an Ed25519 key on the benchmark machine). Other key types keep ssh2's check. A
 * signature node:crypto cannot check at all is invalid; ssh2 returns such a failure as an
 * Error object, which is not `true`.
 */
function signatureValid(
  key: ParsedKey,
  blob: Buffer,
  signature: Buffer,
  hash: string | undefined,
): boolean {
  const fallbackHash = FALLBACK_HASHES[key.type];
  if (fallbackHash === undefined) {
    return key.verify(blob, signature, hash) === true;
  }

  let keyObject = verifyingKeys.get(key);
  if (keyObject === undefined) {
    keyObject = createPublicKey(key.getPublicPEM());
    verifyingKeys.set(key, keyObject);
  }

  try {
    return verify(hash ?? fallbackHash, blob, keyObject, signature);
  } catch {
    return false;
  }
}

function sameBytes(left: Buffer, right: Buffer): boolean {
  return left.length === right.length && timingSafeEqual(left, right);
}
