import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import ssh2, { type ParsedKey } from 'ssh2';

import { AgentError } from '../../errors.js';

// ssh2 is CommonJS; Node's ESM loader exposes only its default export.
const { utils } = ssh2;

/** Reads a password file as the agent does: the whole file, one trailing newline dropped. */
export async function readPasswordFile(path: string): Promise<string> {
  const text = await readSecret(path, 'password file');
  return text.toString('latin1').replace(/\r?\n$/, '');
}

/** Generates a random password and writes it to `<directory>/<name>` with mode 0600. */
export async function writeGeneratedPassword(directory: string, name: string) {
  const password = randomBytes(18).toString('base64url');
  const path = join(directory, name);
  await writeFile(path, `${password}\n`, { mode: 0o600 });
  return { password, path };
}

/**
 * Parses OpenSSH `authorized_keys` text: one public key per line, `#` comments and blank lines
 * skipped. Options before the key type are not supported.
 */
export function parseAuthorizedKeys(text: string, source: string): ParsedKey[] {
  const keys: ParsedKey[] = [];
  const lines = text.split(/\r?\n/);

  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      return;
    }

    const parsed = utils.parseKey(trimmed);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined || key instanceof Error) {
      throw new AgentError(
        'CONFIG_INVALID',
        `invalid public key on line ${index + 1} of ${source}; expected "ssh-ed25519 AAAA..." or "ssh-rsa AAAA..."`,
        { details: { source, line: index + 1 } },
      );
    }

    keys.push(key);
  });

  return keys;
}

/** Reads an authorized_keys file. */
export async function readAuthorizedKeys(path: string): Promise<ParsedKey[]> {
  const text = await readSecret(path, 'authorized keys file');
  return parseAuthorizedKeys(text.toString('utf8'), path);
}

/** Reads a private key file and returns the public key it authorizes. */
export async function publicKeyOfPrivateKeyFile(path: string): Promise<ParsedKey> {
  const text = await readSecret(path, 'private key file');
  const parsed = utils.parseKey(text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error) {
    throw new AgentError(
      'CONFIG_INVALID',
      `invalid private key in ${path}; expected an unencrypted OpenSSH or PEM private key`,
      { details: { path } },
    );
  }

  const publicKey = utils.parseKey(key.getPublicSSH());
  if (publicKey instanceof Error || Array.isArray(publicKey)) {
    throw new AgentError('CONFIG_INVALID', `cannot derive the public key of ${path}`, {
      details: { path },
    });
  }

  return publicKey;
}

async function readSecret(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new AgentError(
      'SECRET_UNREADABLE',
      `cannot read ${what} ${path}; check the path and its permissions`,
      {
        cause: error,
        details: { path },
      },
    );
  }
}
