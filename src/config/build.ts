import path from 'node:path';
import { DEFAULT_PORTS, type DeviceConfig, type Transport } from '../devices/types.js';
import { AgentError } from '../errors.js';
import { mergeSecretKeys } from './checks.js';
import {
  type ConfigFile,
  type DeviceDefaults,
  type DeviceEntry,
  parseEd25519PublicKey,
  parseListenAddress,
} from './schema.js';
import type {
  AgentConfig,
  ControlPlaneConfig,
  RunDefaults,
  StatusConfig,
  StoreConfig,
} from './types.js';

/** Defaults of every optional setting, in the units the configuration file uses. */
export const CONFIG_DEFAULTS = {
  logLevel: 'info',
  runs: {
    concurrency: 16,
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 30_000,
    runTimeoutMs: 300_000,
    outputCapBytes: 256 * 1024,
    shutdownDrainMs: 5_000,
  },
  statusListen: '127.0.0.1:9181',
  storePath: '/var/lib/edge-agent/agent.db',
  retention: { maxAgeDays: 30, maxSizeMiB: 512 },
  device: {
    transport: 'api',
    codePage: 'windows-1252',
    tlsMode: 'certificate',
    loginOptions: 'ct',
  },
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

const MIB = 1024 * 1024;

/** Base directories for relative paths and systemd credentials. */
export type PathContext = {
  /** Directory of the configuration file; relative paths in the file resolve against it. */
  configDir: string;
  /** Working directory; relative paths from environment variables resolve against it. */
  cwd: string;
  /** Dotted paths of settings whose value came from an environment variable. */
  filesFromEnvironment: ReadonlySet<string>;
  /** `$CREDENTIALS_DIRECTORY`, which validation has checked is set wherever a credential is used. */
  credentialsDirectory: string | undefined;
};

/** Turns a validated file into the agent's configuration. */
export function buildConfig(file: ConfigFile, sourceFile: string, paths: PathContext): AgentConfig {
  const defaults = file.deviceDefaults ?? {};

  return {
    sourceFile,
    siteId: file.siteId.toLowerCase(),
    controlPlane: buildControlPlane(file.controlPlane, paths),
    devices: file.devices.map((device) => buildDevice(device, defaults, paths)),
    runs: withDefaults<RunDefaults>(CONFIG_DEFAULTS.runs, file.runs),
    status: buildStatus(file.status ?? {}, paths),
    store: buildStore(file.store ?? {}, paths),
    logLevel: file.logLevel ?? CONFIG_DEFAULTS.logLevel,
  };
}

function resolveFile(dotted: string | undefined, value: string, paths: PathContext): string {
  const fromEnvironment = dotted !== undefined && paths.filesFromEnvironment.has(dotted);
  const base = fromEnvironment ? paths.cwd : paths.configDir;
  return path.resolve(base, value);
}

/**
 * Resolves a file-or-credential pair to one absolute path, or undefined when neither is set.
 * `dotted` names the file setting, for settings that an environment variable may override.
 */
function resolveSecret(
  dotted: string | undefined,
  file: unknown,
  credential: unknown,
  paths: PathContext,
): string | undefined {
  if (typeof file === 'string') {
    return resolveFile(dotted, file, paths);
  }

  if (typeof credential === 'string' && paths.credentialsDirectory !== undefined) {
    return path.join(paths.credentialsDirectory, credential);
  }

  return undefined;
}

function buildControlPlane(
  section: ConfigFile['controlPlane'],
  paths: PathContext,
): ControlPlaneConfig {
  const tokenFile = resolveSecret(
    'controlPlane.tokenFile',
    section.tokenFile,
    section.tokenCredential,
    paths,
  );
  const publicKeyPem = parseEd25519PublicKey(section.jobSigningKey.publicKey);
  if (tokenFile === undefined || publicKeyPem === undefined) {
    throw unvalidated();
  }

  const config: ControlPlaneConfig = {
    url: section.url,
    tokenFile,
    jobSigningKey: { keyId: section.jobSigningKey.keyId, publicKeyPem },
    allowInsecure: section.allowInsecure ?? false,
  };

  if (section.caFile !== undefined) {
    config.caFile = resolveFile('controlPlane.caFile', section.caFile, paths);
  }

  if (section.fingerprint !== undefined) {
    config.fingerprint = normalizeFingerprint(section.fingerprint);
  }

  return config;
}

function buildStatus(section: NonNullable<ConfigFile['status']>, paths: PathContext): StatusConfig {
  const listen = parseListenAddress(section.listen ?? CONFIG_DEFAULTS.statusListen);
  if (listen === undefined) {
    throw unvalidated();
  }

  const status: StatusConfig = { listen };
  const tokenFile = resolveSecret(
    'status.tokenFile',
    section.tokenFile,
    section.tokenCredential,
    paths,
  );
  if (tokenFile !== undefined) {
    status.tokenFile = tokenFile;
  }

  return status;
}

function buildStore(section: NonNullable<ConfigFile['store']>, paths: PathContext): StoreConfig {
  const retention = withDefaults<{ maxAgeDays: number; maxSizeMiB: number }>(
    CONFIG_DEFAULTS.retention,
    section.retention,
  );

  return {
    path: resolveFile('store.path', section.path ?? CONFIG_DEFAULTS.storePath, paths),
    retention: {
      maxAgeMs: Math.round(retention.maxAgeDays * DAY_MS),
      maxSizeBytes: Math.round(retention.maxSizeMiB * MIB),
    },
  };
}

const PORT_KEYS: Readonly<Record<Transport, keyof DeviceConfig['ports']>> = {
  api: 'api',
  'api-ssl': 'apiSsl',
  ssh: 'ssh',
};

/** Merges `deviceDefaults` into one device: nested sections key by key, the rest replaced. */
function buildDevice(
  entry: DeviceEntry,
  defaults: DeviceDefaults,
  paths: PathContext,
): DeviceConfig {
  const transport = entry.transport ?? defaults.transport ?? CONFIG_DEFAULTS.device.transport;
  const ports = withDefaults<DeviceConfig['ports']>(DEFAULT_PORTS, defaults.ports, entry.ports);
  const port = entry.port ?? defaults.port;
  if (port !== undefined) {
    ports[PORT_KEYS[transport]] = port;
  }

  const tls = { ...defaults.tls, ...entry.tls };
  const ssh = { ...defaults.ssh, ...entry.ssh };
  const username = entry.username ?? defaults.username;
  if (username === undefined) {
    throw unvalidated();
  }

  const device: DeviceConfig = {
    id: entry.id,
    name: entry.name ?? defaults.name ?? entry.id,
    host: entry.host,
    transport,
    ports,
    username,
    codePage: entry.codePage ?? defaults.codePage ?? CONFIG_DEFAULTS.device.codePage,
    tags: [...(entry.tags ?? defaults.tags ?? [])],
    tls: { mode: tls.mode ?? CONFIG_DEFAULTS.device.tlsMode },
    ssh: { loginOptions: ssh.loginOptions ?? CONFIG_DEFAULTS.device.loginOptions },
  };

  if (tls.fingerprint !== undefined) {
    device.tls.fingerprint = normalizeFingerprint(tls.fingerprint);
  }

  if (tls.caFile !== undefined) {
    device.tls.caFile = path.resolve(paths.configDir, tls.caFile);
  }

  if (ssh.hostKey !== undefined) {
    device.ssh.hostKey = ssh.hostKey;
  }

  addDeviceSecrets(device, entry, defaults, paths);
  return device;
}

function addDeviceSecrets(
  device: DeviceConfig,
  entry: DeviceEntry,
  defaults: DeviceDefaults,
  paths: PathContext,
): void {
  const merged = mergeSecretKeys(defaults, entry);
  const passwordFile = resolveSecret(
    undefined,
    merged.passwordFile,
    merged.passwordCredential,
    paths,
  );
  const keyFile = resolveSecret(undefined, merged.keyFile, merged.keyCredential, paths);
  const passphraseFile = resolveSecret(
    'device',
    merged.passphraseFile,
    merged.passphraseCredential,
    paths,
  );

  if (passwordFile !== undefined) {
    device.passwordFile = passwordFile;
  }

  if (keyFile !== undefined) {
    device.keyFile = keyFile;
  }

  if (passphraseFile !== undefined) {
    device.passphraseFile = passphraseFile;
  }
}

/** Copies `defaults`, replacing each value that an override sets to something other than undefined. */
function withDefaults<T extends object>(
  defaults: T,
  ...overrides: Array<{ [K in keyof T]?: T[K] | undefined } | undefined>
): T {
  const result: T = { ...defaults };

  for (const override of overrides) {
    for (const key of Object.keys(override ?? {}) as Array<keyof T>) {
      const value = override?.[key];
      if (value !== undefined) {
        result[key] = value;
      }
    }
  }

  return result;
}

function unvalidated(): AgentError {
  return new AgentError(
    'INTERNAL',
    'buildConfig was called on a configuration that failed validation',
  );
}

/** Lower-case hex without colons, the form fingerprints are compared in. */
export function normalizeFingerprint(text: string): string {
  return text.replaceAll(':', '').toLowerCase();
}
