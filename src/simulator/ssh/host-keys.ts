import { createHash, createPrivateKey, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import ssh2, { type ParsedKey } from 'ssh2';

import { AgentError } from '../../errors.js';

// ssh2 is CommonJS; Node's ESM loader exposes only its default export.
const { utils } = ssh2;

/**
 * One host key in the parsed form ssh2's server takes, signing with a key parsed once (see
 * `signWithParsedKey`).
 */
export type HostKey = {
  parsed: ParsedKey;
};

/** The host keys of one SSH server, shared by every connection. */
export type HostKeySet = {
  rsa: HostKey;
  ed25519: HostKey;
};

const KEY_FILES = { rsa: 'ssh_host_rsa_key', ed25519: 'ssh_host_ed25519_key' } as const;

/** Bits of generated RSA host keys. */
const RSA_BITS = 2048;

/** Attempts before `generateSshKeyPair` gives up; one bad key in 256 makes 8 in a row unheard of. */
const KEY_ATTEMPTS = 8;

/**
 * Generates an OpenSSH key pair that ssh2 can parse back. ssh2 1.17's own Ed25519 generator
 * writes a private key its `parseKey` rejects as malformed about once in 600 calls (measured
 * here: 5 in 3,000), so a key that does not parse is replaced by a new one.
 */
export function generateSshKeyPair(
  kind: keyof HostKeySet,
  encryption?: { passphrase: string; cipher: string; rounds: number },
): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    const options = encryption ?? {};
    const pair =
      kind === 'rsa'
        ? utils.generateKeyPairSync('rsa', { bits: RSA_BITS, ...options })
        : utils.generateKeyPairSync('ed25519', options);
    const parsed = utils.parseKey(pair.private, encryption?.passphrase);
    if (!(parsed instanceof Error) || attempt >= KEY_ATTEMPTS) {
      return pair;
    }
  }
}

/** Generates a fresh RSA and Ed25519 host key pair. */
export function generateHostKeys(): HostKeySet {
  return {
    rsa: toHostKey(generateSshKeyPair('rsa').private, 'rsa'),
    ed25519: toHostKey(generateSshKeyPair('ed25519').private, 'ed25519'),
  };
}

/**
 * Loads the host keys kept in `directory`, generating and saving any that are missing, so a
 * restarted fleet presents the same keys. Key files are OpenSSH private keys, mode 0600.
 */
export async function loadOrCreateHostKeys(directory: string): Promise<HostKeySet> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  return {
    rsa: await loadOrCreate(directory, 'rsa'),
    ed25519: await loadOrCreate(directory, 'ed25519'),
  };
}

/** Replaces the host keys kept in `directory` with new ones and returns them. */
export async function replaceHostKeys(directory: string): Promise<HostKeySet> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  return {
    rsa: await create(directory, 'rsa'),
    ed25519: await create(directory, 'ed25519'),
  };
}

async function loadOrCreate(directory: string, kind: keyof HostKeySet): Promise<HostKey> {
  const path = join(directory, KEY_FILES[kind]);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AgentError('SECRET_UNREADABLE', `cannot read SSH host key ${path}`, {
        cause: error,
        details: { path },
      });
    }

    return create(directory, kind);
  }

  return toHostKey(text, kind, path);
}

async function create(directory: string, kind: keyof HostKeySet): Promise<HostKey> {
  const pair = generateSshKeyPair(kind);
  await writeFile(join(directory, KEY_FILES[kind]), pair.private, { mode: 0o600 });
  return toHostKey(pair.private, kind);
}

function toHostKey(text: string, kind: keyof HostKeySet, path = 'generated key'): HostKey {
  const parsed = utils.parseKey(text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
    throw new AgentError(
      'CONFIG_INVALID',
      `invalid ${kind} SSH host key in ${path}; delete the file to have a new one generated`,
      { details: { path } },
    );
  }

  signWithParsedKey(key);
  return { parsed: key };
}

/**
 * Replaces the key's `sign` with one that uses a node:crypto key parsed once. ssh2's own passes
 * the PEM text to node:crypto, which parses it again for every signature. A server signs once
 * per connection. On the 2-core benchmark machine an Ed25519 signature took 0.41 ms from the
 * text and 0.04 ms from the parsed key. That CPU is the simulator's, but it shares the machine
 * with the agent and the tools the benchmarks compare.
 */
function signWithParsedKey(key: ParsedKey): void {
  const privateKey = createPrivateKey(key.getPrivatePEM());
  // ssh2 passes no hash for Ed25519 and for `ssh-rsa`, which signs with SHA-1.
  const fallbackHash = key.type === 'ssh-rsa' ? 'sha1' : null;
  const signWithKey = (data: Buffer | string, hash?: string): Buffer | Error => {
    try {
      return sign(hash ?? fallbackHash, Buffer.from(data), privateKey);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  // ssh2 returns a failure as an Error object, which its key exchange checks for. Its types omit it.
  key.sign = signWithKey as ParsedKey['sign'];
}

/** Returns a key's fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64. */
export function fingerprintOf(key: ParsedKey): string {
  const digest = createHash('sha256').update(key.getPublicSSH()).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
