import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { ParsedKey } from 'ssh2';

import { TRANSPORTS } from '../../devices/types.js';
import { AgentError, errorMessage } from '../../errors.js';
import type { RouterOsVersion } from '../model/types.js';
import { parseVersion } from '../model/version.js';
import { defaultSshProfile } from '../ssh/algorithms.js';
import { distinctHost, servicePort } from './addresses.js';
import {
  parseAuthorizedKeys,
  publicKeyOfPrivateKeyFile,
  readPasswordFile,
  writeGeneratedPassword,
} from './credentials.js';
import type { DeviceSpec } from './fleet-device.js';
import {
  DEFAULT_USER,
  DEFAULT_VERSION,
  defaultDeviceId,
  type FleetDeviceOptions,
  type FleetOptions,
} from './options.js';

/** Secrets read or generated once per fleet and shared by the devices that use them. */
type SecretCache = {
  stateDir: string;
  passwords: Map<string, string>;
  publicKeys: Map<string, ParsedKey>;
  generated?: { password: string; path: string };
};

/** Turns fleet options into one complete spec per device, reading or writing secret files. */
export async function resolveDeviceSpecs(
  options: FleetOptions,
  stateDir: string,
): Promise<DeviceSpec[]> {
  const entries = options.fleet ?? Array.from({ length: options.devices ?? 1 }, () => ({}));
  const cache: SecretCache = { stateDir, passwords: new Map(), publicKeys: new Map() };
  const specs: DeviceSpec[] = [];
  const ids = new Set<string>();

  for (const [index, entry] of entries.entries()) {
    const merged: FleetDeviceOptions = { ...options.defaults, ...entry };
    const spec = await resolveDevice(merged, index, options, cache);
    if (ids.has(spec.id)) {
      throw new AgentError('CONFIG_INVALID', `device id "${spec.id}" appears twice in the fleet`, {
        details: { deviceId: spec.id },
      });
    }

    ids.add(spec.id);
    specs.push(spec);
  }

  return specs;
}

async function resolveDevice(
  entry: FleetDeviceOptions,
  index: number,
  options: FleetOptions,
  cache: SecretCache,
): Promise<DeviceSpec> {
  const id = entry.id ?? defaultDeviceId(index);
  const version = parseVersionOption(entry.version ?? DEFAULT_VERSION, id);
  const distinct = options.distinctHosts ?? false;
  const base = { api: 0, apiSsl: 0, ssh: 0, ...options.basePorts };
  const services = entry.services ?? [...TRANSPORTS];
  const credentials = await resolveCredentials(entry, id, cache);

  const spec: DeviceSpec = {
    id,
    identity: entry.identity ?? id,
    version,
    host: entry.host ?? (distinct ? distinctHost(index) : (options.host ?? '127.0.0.1')),
    ports: {
      api: entry.ports?.api ?? servicePort(base.api, index, distinct),
      apiSsl: entry.ports?.apiSsl ?? servicePort(base.apiSsl, index, distinct),
      ssh: entry.ports?.ssh ?? servicePort(base.ssh, index, distinct),
    },
    services: {
      api: services.includes('api'),
      apiSsl: services.includes('api-ssl'),
      ssh: services.includes('ssh'),
    },
    transport: entry.transport ?? 'api',
    tlsMode: entry.tlsMode ?? 'certificate',
    sshProfile: entry.sshProfile ?? defaultSshProfile(version, entry.strongCrypto ?? false),
    exitStatus: entry.exitStatus ?? 'none',
    users: [credentials.user],
    allowedAddresses: entry.allowedAddresses ?? [],
    faults: entry.faults ?? [],
    faultSettings: {
      ...(entry.latencyMs === undefined ? {} : { latencyMs: entry.latencyMs }),
      ...(entry.rebootDelayMs === undefined ? {} : { rebootDelayMs: entry.rebootDelayMs }),
      ...(entry.fragmentBytes === undefined ? {} : { fragmentBytes: entry.fragmentBytes }),
      ...(entry.fragmentPauseMs === undefined ? {} : { fragmentPauseMs: entry.fragmentPauseMs }),
    },
    tags: entry.tags ?? ['simulated'],
  };

  if (credentials.passwordFile !== undefined) {
    spec.passwordFile = credentials.passwordFile;
  }

  if (entry.keyFile !== undefined) {
    spec.keyFile = entry.keyFile;
  }

  return spec;
}

async function resolveCredentials(entry: FleetDeviceOptions, id: string, cache: SecretCache) {
  const { password, passwordFile } = await resolvePassword(entry, id, cache);
  const authorizedKeys =
    entry.authorizedKeys === undefined
      ? []
      : parseAuthorizedKeys(entry.authorizedKeys, `authorized keys of ${id}`);

  if (entry.keyFile !== undefined) {
    authorizedKeys.push(await cachedPublicKey(entry.keyFile, cache));
  }

  const user = {
    name: entry.user ?? DEFAULT_USER,
    password,
    authorizedKeys,
    alwaysAllowPasswordLogin: entry.alwaysAllowPasswordLogin ?? false,
  };

  return { user, passwordFile };
}

/**
 * Returns a device's password and the file the inventory names for it: the password given
 * (written to a file of the device's own), the password file given, or one password
 * generated for the whole fleet into `<stateDir>/password`.
 */
async function resolvePassword(entry: FleetDeviceOptions, id: string, cache: SecretCache) {
  if (entry.password !== undefined) {
    const directory = join(cache.stateDir, 'passwords');
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const path = entry.passwordFile ?? join(directory, id);
    if (entry.passwordFile === undefined) {
      await writeFile(path, `${entry.password}\n`, { mode: 0o600, encoding: 'latin1' });
    }

    return { password: entry.password, passwordFile: path };
  }

  if (entry.passwordFile !== undefined) {
    let password = cache.passwords.get(entry.passwordFile);
    if (password === undefined) {
      password = await readPasswordFile(entry.passwordFile);
      cache.passwords.set(entry.passwordFile, password);
    }

    return { password, passwordFile: entry.passwordFile };
  }

  cache.generated ??= await fleetPassword(cache.stateDir);
  return { password: cache.generated.password, passwordFile: cache.generated.path };
}

/** Reads `<stateDir>/password` left by an earlier run, or generates it. */
async function fleetPassword(stateDir: string) {
  const path = join(stateDir, 'password');
  try {
    return { password: await readPasswordFile(path), path };
  } catch (error) {
    if (!(error instanceof AgentError) || error.code !== 'SECRET_UNREADABLE') {
      throw error;
    }
  }

  return writeGeneratedPassword(stateDir, 'password');
}

async function cachedPublicKey(path: string, cache: SecretCache): Promise<ParsedKey> {
  let key = cache.publicKeys.get(path);
  if (key === undefined) {
    key = await publicKeyOfPrivateKeyFile(path);
    cache.publicKeys.set(path, key);
  }

  return key;
}

function parseVersionOption(text: string, id: string): RouterOsVersion {
  try {
    return parseVersion(text);
  } catch (error) {
    throw new AgentError('CONFIG_INVALID', `device ${id}: ${errorMessage(error)}`, {
      cause: error,
      details: { deviceId: id, version: text },
    });
  }
}
