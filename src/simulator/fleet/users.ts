import { createHash, timingSafeEqual } from 'node:crypto';

import type { ParsedKey } from 'ssh2';

/** One account of a simulated device. */
export type SimulatedUser = {
  name: string;
  /** Password as bytes in a latin1 string; undefined for a key-only account. */
  password?: string;
  /** Public keys accepted for SSH login, as `/user ssh-keys import` would store them. */
  authorizedKeys: readonly ParsedKey[];
  /**
   * Whether SSH accepts the password although the user has a key, as RouterOS's
   * `always-allow-password-login`. Default false.
   */
  alwaysAllowPasswordLogin: boolean;
};

/** The accounts of one device and the password checks every transport shares. */
export class UserDirectory {
  private readonly users = new Map<string, SimulatedUser>();

  constructor(users: Iterable<SimulatedUser>) {
    for (const user of users) {
      this.users.set(user.name, user);
    }
  }

  get(name: string): SimulatedUser | undefined {
    return this.users.get(name);
  }

  /** Checks a plain password, as the 6.43+ API login and SSH password authentication do. */
  checkPassword(name: string, password: string): boolean {
    const expected = this.users.get(name)?.password;
    return expected !== undefined && equalBytes(expected, password);
  }

  /**
   * Checks an MD5 challenge response: `00` then the hex MD5 of a zero byte, the password bytes
   * and the 16 challenge bytes, as the API login before 6.45.1 computes it.
   */
  checkChallengeResponse(name: string, challenge: Buffer, response: string): boolean {
    const password = this.users.get(name)?.password;
    if (password === undefined) {
      return false;
    }

    return equalBytes(response.toLowerCase(), challengeResponse(password, challenge));
  }
}

/** Computes the `=response=` word value for the MD5 challenge login. */
export function challengeResponse(password: string, challenge: Buffer): string {
  const digest = createHash('md5')
    .update(Buffer.from([0]))
    .update(Buffer.from(password, 'latin1'))
    .update(challenge)
    .digest('hex');

  return `00${digest}`;
}

function equalBytes(left: string, right: string): boolean {
  const leftBytes = Buffer.from(left, 'latin1');
  const rightBytes = Buffer.from(right, 'latin1');
  return leftBytes.length === rightBytes.length && timingSafeEqual(leftBytes, rightBytes);
}
