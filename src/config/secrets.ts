import { readFile as readFileCallback } from 'node:fs';
import { promisify } from 'node:util';

import type { DeviceConfig, DeviceCredentials } from '../devices/types.js';
import { AgentError, errorMessage, isAgentError } from '../errors.js';
import type { AgentConfig } from './types.js';

/** Reads a whole file; `readFile`, or a cache in front of it (see secret-cache.ts). */
export type ReadFileBytes = (file: string) => Promise<Buffer>;

// The callback form of readFile costs a fraction of the CPU of `fs/promises` readFile (about
// 10 against 50 to 80 microseconds per small file on Node 20).
export const readFileBytes: ReadFileBytes = promisify(readFileCallback);

/**
 * Reads a secret file as bytes. Throws SECRET_UNREADABLE naming `owner` (a device or a section
 * of the configuration) and the file when it cannot be read or is empty.
 */
export async function readSecretBytes(
  file: string,
  owner: string,
  read: ReadFileBytes = readFileBytes,
): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await read(file);
  } catch (error) {
    throw new AgentError(
      'SECRET_UNREADABLE',
      `${owner}: secret file ${file} cannot be read (${errorMessage(error)}); check that it exists and the agent's user can read it`,
      { cause: error, details: { owner, file } },
    );
  }

  if (bytes.length === 0) {
    throw new AgentError('SECRET_UNREADABLE', `${owner}: secret file ${file} is empty`, {
      details: { owner, file },
    });
  }

  return bytes;
}

/** Reads a secret file as UTF-8 text without one trailing newline (LF or CRLF). */
export async function readSecretText(
  file: string,
  owner: string,
  read: ReadFileBytes = readFileBytes,
): Promise<string> {
  const text = (await readSecretBytes(file, owner, read)).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') {
    throw new AgentError(
      'SECRET_UNREADABLE',
      `${owner}: secret file ${file} holds only a newline`,
      {
        details: { owner, file },
      },
    );
  }

  return text;
}

/**
 * Reads the password, private key and passphrase files that a device's configuration names,
 * each through `read`.
 */
export async function readDeviceCredentials(
  device: DeviceConfig,
  read: ReadFileBytes = readFileBytes,
): Promise<DeviceCredentials> {
  const owner = `device ${device.id}`;
  const credentials: DeviceCredentials = {};

  if (device.passwordFile !== undefined) {
    credentials.password = await readSecretText(device.passwordFile, owner, read);
  }

  if (device.keyFile !== undefined) {
    credentials.privateKey = await readSecretBytes(device.keyFile, owner, read);
  }

  if (device.passphraseFile !== undefined) {
    credentials.passphrase = await readSecretText(device.passphraseFile, owner, read);
  }

  return credentials;
}

/**
 * Reads every secret the configuration names and checks that private keys parse with their
 * passphrases. Throws one SECRET_UNREADABLE that lists every failure.
 */
export async function verifySecrets(config: AgentConfig): Promise<void> {
  const checks: Array<Promise<unknown>> = [
    readSecretText(config.controlPlane.tokenFile, 'controlPlane'),
    ...groupBySecretFiles(config.devices).map(verifyDeviceGroup),
  ];

  if (config.status.tokenFile !== undefined) {
    checks.push(readSecretText(config.status.tokenFile, 'status'));
  }

  const failures = (await Promise.allSettled(checks)).flatMap((outcome) => {
    if (outcome.status === 'fulfilled') {
      return [];
    }

    const reason = outcome.reason as unknown;
    return reason instanceof AggregateError ? (reason.errors as unknown[]) : [reason];
  });
  if (failures.length === 0) {
    return;
  }

  const messages = failures.map(errorMessage);
  throw new AgentError(
    'SECRET_UNREADABLE',
    `${messages.length} secret(s) cannot be used:\n${messages.map((line) => `  ${line}`).join('\n')}`,
    { cause: failures[0], details: { failures: failures.map(failureDetails) } },
  );
}

/**
 * Groups devices that name the same secret files, as every device taking its password file
 * from `deviceDefaults` does, so that a file is read once per group rather than once per device.
 */
function groupBySecretFiles(devices: readonly DeviceConfig[]): DeviceConfig[][] {
  const groups = new Map<string, DeviceConfig[]>();
  for (const device of devices) {
    const key = JSON.stringify([device.passwordFile, device.keyFile, device.passphraseFile]);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, [device]);
    } else {
      group.push(device);
    }
  }

  return [...groups.values()];
}

/**
 * Checks the secrets of the first device of a group. Only when they fail are the others
 * checked too, so that the error names every device whose secrets cannot be used.
 */
async function verifyDeviceGroup(devices: readonly DeviceConfig[]): Promise<void> {
  const [first, ...rest] = devices;
  if (first === undefined) {
    return;
  }

  try {
    await verifyDeviceSecrets(first);
  } catch (error) {
    const others = await Promise.allSettled(rest.map(verifyDeviceSecrets));
    const failures = [
      error,
      ...others.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : [])),
    ];
    throw failures.length === 1 ? error : new AggregateError(failures);
  }
}

async function verifyDeviceSecrets(device: DeviceConfig): Promise<void> {
  const credentials = await readDeviceCredentials(device);
  if (credentials.privateKey === undefined) {
    return;
  }

  // Loaded here rather than with this module, so that a site without keys never loads ssh2.
  const { default: ssh2 } = await import('ssh2');
  const parsed = ssh2.utils.parseKey(credentials.privateKey, credentials.passphrase);
  if (parsed instanceof Error) {
    throw new AgentError(
      'SECRET_UNREADABLE',
      `device ${device.id}: private key ${device.keyFile} cannot be parsed (${parsed.message}); check the key format and its passphrase`,
      { cause: parsed, details: { owner: `device ${device.id}`, file: device.keyFile } },
    );
  }
}

function failureDetails(failure: unknown): Readonly<Record<string, unknown>> {
  return isAgentError(failure) ? failure.details : { message: errorMessage(failure) };
}
