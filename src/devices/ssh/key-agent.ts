import { createHash, createPrivateKey, type KeyObject, sign } from 'node:crypto';

import ssh2, { BaseAgent, type ParsedKey, type SignCallback } from 'ssh2';

import { AgentError } from '../../errors.js';
import type { DeviceConfig } from '../types.js';

/**
 * Maximum number of parsed keys kept. A site uses a handful of key files. Past this many, the
 * least recently used key is parsed again on its next connection.
 */
const MAX_CACHED_KEYS = 256;

/** Hash algorithm of each key type when ssh2 requests none (only RSA keys have a choice). */
const DEFAULT_HASHES: Readonly<Record<string, string | null>> = {
  'ssh-ed25519': null,
  'ssh-rsa': 'sha1',
  'ssh-dss': 'sha1',
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
};

/**
 * An ssh2 agent with one private key, parsed once, that signs the user authentication. Given
 * the key text instead, ssh2 parses it on every connection, and OpenSSL parses the PEM again for
 * every signature: about 0.6 ms of CPU per login with an Ed25519 key, measured under load. An
 * encrypted key adds its passphrase's key derivation to every connection.
 */
export class KeyAgent extends BaseAgent<ParsedKey> {
  private readonly publicKey: ParsedKey;

  private readonly privateKey: KeyObject;

  constructor(parsed: ParsedKey) {
    super();
    this.publicKey = parsed;
    this.privateKey = createPrivateKey(parsed.getPrivatePEM());
  }

  getIdentities(callback: (error: Error | null, keys?: ParsedKey[]) => void): void {
    callback(null, [this.publicKey]);
  }

  sign(
    _publicKey: ParsedKey,
    data: Buffer,
    options: { hash?: string } | SignCallback,
    callback?: SignCallback,
  ): void {
    const done = typeof options === 'function' ? options : callback;
    const requested = typeof options === 'function' ? undefined : options.hash;
    const hash = requested ?? DEFAULT_HASHES[this.publicKey.type] ?? null;
    let signature: Buffer;
    try {
      signature = sign(hash, data, this.privateKey);
    } catch (error) {
      done?.(error as Error);
      return;
    }

    done?.(null, signature);
  }
}

/**
 * Agents by a SHA-256 digest of the key bytes and passphrase. The runner reads the key file for
 * every run, so a key changed on disk or renamed by a reload gets an entry of its own. A cached
 * key is never used for other bytes. Map order is use order, the least recently used first.
 */
const agents = new Map<string, KeyAgent>();

/**
 * Returns the agent for a private key, parsing it only the first time these bytes and this
 * passphrase are seen. Throws SECRET_UNREADABLE when the key cannot be parsed.
 */
export function keyAgentFor(
  device: DeviceConfig,
  privateKey: Buffer,
  passphrase: string | undefined,
): KeyAgent {
  const digest = createHash('sha256')
    .update(privateKey)
    .update(passphrase === undefined ? '\0' : `\x01${passphrase}`)
    .digest('base64');
  const cached = agents.get(digest);
  if (cached !== undefined) {
    agents.delete(digest);
    agents.set(digest, cached);
    return cached;
  }

  const agent = new KeyAgent(parsePrivateKey(device, privateKey, passphrase));
  agents.set(digest, agent);
  if (agents.size > MAX_CACHED_KEYS) {
    const oldest = agents.keys().next().value;
    if (oldest !== undefined) {
      agents.delete(oldest);
    }
  }

  return agent;
}

function parsePrivateKey(
  device: DeviceConfig,
  privateKey: Buffer,
  passphrase: string | undefined,
): ParsedKey {
  // `utils` is read from the default export, because Node does not detect it as a named export
  // of the CommonJS module ssh2.
  const key = ssh2.utils.parseKey(privateKey, passphrase);
  if (key instanceof Error || !key.isPrivateKey()) {
    const reason = key instanceof Error ? key.message : 'the file contains a public key only';
    throw new AgentError(
      'SECRET_UNREADABLE',
      `the private key of device ${device.id} cannot be parsed (${reason}); check the key file ${device.keyFile ?? '(inline)'} and its passphrase`,
      {
        ...(key instanceof Error ? { cause: key } : {}),
        details: { deviceId: device.id, file: device.keyFile },
      },
    );
  }

  return key;
}
