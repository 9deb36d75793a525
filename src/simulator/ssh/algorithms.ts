import type { Algorithms, ParsedKey } from 'ssh2';

import type { RouterOsVersion } from '../model/types.js';
import type { HostKeySet } from './host-keys.js';

/**
 * Algorithm sets an SSH server offers. `routeros6` is the 6.x default set with RSA host keys
 * only. `routeros6-strong` is 6.x with `/ip ssh set strong-crypto=yes`, which leaves a single
 * key exchange. `routeros7` is the modern 7.x set with Ed25519 and RSA host keys.
 */
export const SSH_PROFILES = ['routeros6', 'routeros6-strong', 'routeros7'] as const;

export type SshProfile = (typeof SSH_PROFILES)[number];

/**
 * Key exchange and host key lists follow RouterOS documentation and interop reports.
 * NOTE: the cipher and MAC lists are plausible sets, not copied from a device; only the key
 * exchange and host key lists are documented.
 */
const PROFILES: Readonly<Record<SshProfile, Algorithms>> = {
  routeros6: {
    kex: [
      'diffie-hellman-group-exchange-sha256',
      'diffie-hellman-group-exchange-sha1',
      'diffie-hellman-group14-sha1',
      'diffie-hellman-group1-sha1',
    ],
    serverHostKey: ['ssh-rsa'],
    cipher: ['aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-cbc', 'aes256-cbc', '3des-cbc'],
    hmac: ['hmac-sha2-256', 'hmac-sha1'],
  },
  'routeros6-strong': {
    kex: ['diffie-hellman-group-exchange-sha256'],
    serverHostKey: ['ssh-rsa'],
    cipher: ['aes128-ctr', 'aes192-ctr', 'aes256-ctr'],
    hmac: ['hmac-sha2-256'],
  },
  routeros7: {
    kex: [
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'diffie-hellman-group-exchange-sha256',
      'diffie-hellman-group14-sha256',
      'diffie-hellman-group14-sha1',
    ],
    serverHostKey: ['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa'],
    cipher: [
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'aes128-ctr',
      'aes192-ctr',
      'aes256-ctr',
    ],
    hmac: ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'],
  },
};

/** Returns the profile a device of `version` has, with strong crypto as configured on 6.x. */
export function defaultSshProfile(version: RouterOsVersion, strongCrypto = false): SshProfile {
  if (version.major >= 7) {
    return 'routeros7';
  }

  return strongCrypto ? 'routeros6-strong' : 'routeros6';
}

/** Returns the algorithm lists of a profile. */
export function profileAlgorithms(profile: SshProfile): Algorithms {
  return PROFILES[profile];
}

/** Returns the host keys a profile presents, preferred first. */
export function profileHostKeys(profile: SshProfile, keys: HostKeySet): Array<{ key: ParsedKey }> {
  const { rsa, ed25519 } = keys;
  // ssh2's server takes a parsed key only inside such an object; a bare one it parses as text.
  const ordered = profile === 'routeros7' ? [ed25519, rsa] : [rsa];
  return ordered.map((hostKey) => ({ key: hostKey.parsed }));
}

/** Returns the host key a profile's clients normally verify: its most preferred one. */
export function preferredHostKey(profile: SshProfile, keys: HostKeySet) {
  return profile === 'routeros7' ? keys.ed25519 : keys.rsa;
}

/** Reports whether `name` is an SSH profile name. */
export function isSshProfile(name: string): name is SshProfile {
  return (SSH_PROFILES as readonly string[]).includes(name);
}
