import { CONFIG_DEFAULTS } from '../config/build.js';
import { loadConfig } from '../config/load.js';
import { MAX_DURATION_MS } from '../config/schema.js';
import type { RunDefaults } from '../config/types.js';
import { isKnownCodePage } from '../devices/encoding.js';
import { DEFAULT_PORTS, type DeviceConfig, TRANSPORTS, type Transport } from '../devices/types.js';
import { AgentError } from '../errors.js';
import { parseMilliseconds, type TimeoutOptions } from './device-cli.js';

/** Option values of `edge-agent exec`, as node:util parseArgs returns them. */
export type ExecValues = {
  file?: string | undefined;
  host?: string | undefined;
  transport?: string | undefined;
  port?: string | undefined;
  user?: string | undefined;
  'password-file'?: string | undefined;
  'key-file'?: string | undefined;
  'passphrase-file'?: string | undefined;
  'tls-mode'?: string | undefined;
  fingerprint?: string | undefined;
  'host-key'?: string | undefined;
  'login-options'?: string | undefined;
  'code-page'?: string | undefined;
  config?: string | undefined;
  device?: string | undefined;
  'known-hosts'?: string | undefined;
  'timeout-ms'?: string | undefined;
  'connect-timeout-ms'?: string | undefined;
  json?: boolean | undefined;
  help?: boolean | undefined;
};

/** A device to run on, with the timeouts that apply to it. */
export type ExecTarget = { device: DeviceConfig; timeouts: TimeoutOptions; runTimeoutMs: number };

/**
 * Resolves the device of `edge-agent exec`: from the configuration with `--config` and
 * `--device`, or from the `--host` flags. Throws USAGE_INVALID, CONFIG_* or DEVICE_NOT_FOUND.
 */
export async function resolveTarget(values: ExecValues): Promise<ExecTarget> {
  const runTimeoutMs = parseMilliseconds(
    'timeout-ms',
    values['timeout-ms'],
    0,
    MAX_DURATION_MS.run,
  );
  const connectTimeoutMs = parseMilliseconds(
    'connect-timeout-ms',
    values['connect-timeout-ms'],
    0,
    MAX_DURATION_MS.connect,
  );

  if (values.config !== undefined) {
    return targetFromConfig(values, values.config, { runTimeoutMs, connectTimeoutMs });
  }

  const { runs } = CONFIG_DEFAULTS;
  return boundedTarget(deviceFromFlags(values), runs, { runTimeoutMs, connectTimeoutMs });
}

/**
 * Applies the flags over `runs` and keeps the connect and command timeouts within the run
 * timeout, which bounds the whole run. A flag of 0 is one not given.
 */
function boundedTarget(
  device: DeviceConfig,
  runs: Pick<RunDefaults, 'connectTimeoutMs' | 'commandTimeoutMs' | 'runTimeoutMs'>,
  flags: { runTimeoutMs: number; connectTimeoutMs: number },
): ExecTarget {
  const runTimeoutMs = flags.runTimeoutMs || runs.runTimeoutMs;
  const connectTimeoutMs = flags.connectTimeoutMs || runs.connectTimeoutMs;

  return {
    device,
    timeouts: {
      connectTimeoutMs: Math.min(connectTimeoutMs, runTimeoutMs),
      commandTimeoutMs: Math.min(runs.commandTimeoutMs, runTimeoutMs),
    },
    runTimeoutMs,
  };
}

async function targetFromConfig(
  values: ExecValues,
  file: string,
  overrides: { runTimeoutMs: number; connectTimeoutMs: number },
): Promise<ExecTarget> {
  const conflicting = ['host', 'transport', 'port', 'user', 'password-file', 'key-file'].filter(
    (name) => values[name as keyof ExecValues] !== undefined,
  );
  if (conflicting.length > 0) {
    throw usage(
      `--config takes the device from the configuration; drop --${conflicting.join(', --')}`,
    );
  }

  if (values.device === undefined) {
    throw usage('--config needs --device ID to pick the device');
  }

  const config = await loadConfig(file);
  const device = config.devices.find((candidate) => candidate.id === values.device);
  if (device === undefined) {
    const known = config.devices.map((candidate) => candidate.id).join(', ');
    throw new AgentError(
      'DEVICE_NOT_FOUND',
      `device "${values.device}" is not in ${config.sourceFile}; configured devices: ${known}`,
      { details: { deviceId: values.device } },
    );
  }

  return boundedTarget(device, config.runs, overrides);
}

/** Builds the device of the `--host` form from its flags, checking each. */
function deviceFromFlags(values: ExecValues): DeviceConfig {
  const host = required(values.host, '--host');
  const transport = parseTransport(required(values.transport, '--transport'));
  const username = required(values.user, '--user');
  const codePage = values['code-page'] ?? CONFIG_DEFAULTS.device.codePage;
  if (!isKnownCodePage(codePage)) {
    throw usage(
      `--code-page "${codePage}" is not a code page iconv-lite supports, such as windows-1251`,
    );
  }

  const ports: DeviceConfig['ports'] = { ...DEFAULT_PORTS };
  const portKey = portKeyOf(transport);
  if (values.port !== undefined) {
    ports[portKey] = parsePort(values.port);
  }

  const device: DeviceConfig = {
    id: cliDeviceId(host, ports[portKey], DEFAULT_PORTS[portKey]),
    name: host,
    host,
    transport,
    ports,
    username,
    codePage,
    tags: [],
    tls: { mode: parseTlsMode(values['tls-mode']) },
    ssh: { loginOptions: values['login-options'] ?? CONFIG_DEFAULTS.device.loginOptions },
  };
  addOptionalFlags(device, values);
  return device;
}

function addOptionalFlags(device: DeviceConfig, values: ExecValues): void {
  const passwordFile = values['password-file'];
  const keyFile = values['key-file'];
  if ((passwordFile === undefined) === (keyFile === undefined)) {
    throw usage('give exactly one of --password-file and --key-file');
  }

  if (keyFile !== undefined && device.transport !== 'ssh') {
    throw usage(
      `--key-file works only with --transport ssh; the ${device.transport} transport needs --password-file`,
    );
  }

  if (passwordFile !== undefined) {
    device.passwordFile = passwordFile;
  }

  if (keyFile !== undefined) {
    device.keyFile = keyFile;
  }

  if (values['passphrase-file'] !== undefined) {
    device.passphraseFile = values['passphrase-file'];
  }

  if (values.fingerprint !== undefined) {
    device.tls.fingerprint = values.fingerprint;
  }

  if (values['host-key'] !== undefined) {
    device.ssh.hostKey = values['host-key'];
  }
}

/**
 * Names a device of the `--host` form, which also keys its pins in the known-hosts file: the
 * host, with the port when it is not the transport's default, in the characters device ids use.
 */
export function cliDeviceId(host: string, port: number, defaultPort: number): string {
  const name = port === defaultPort ? host : `${host}_${port}`;
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function parseTransport(text: string): Transport {
  if (!(TRANSPORTS as readonly string[]).includes(text)) {
    throw usage(`--transport must be one of ${TRANSPORTS.join(', ')}, got "${text}"`);
  }

  return text as Transport;
}

function parseTlsMode(text: string | undefined): 'certificate' | 'anonymous' {
  if (text === undefined || text === 'certificate' || text === 'anonymous') {
    return text ?? 'certificate';
  }

  throw usage(`--tls-mode must be certificate or anonymous, got "${text}"`);
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw usage(`--port must be a TCP port from 1 to 65535, got "${text}"`);
  }

  return port;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') {
    throw usage(`${flag} is required without --config`);
  }

  return value;
}

export function usage(message: string): AgentError {
  return new AgentError('USAGE_INVALID', `${message}; run "edge-agent exec --help"`);
}

/** Returns the key of `DeviceConfig.ports` that holds a transport's port. */
export function portKeyOf(transport: Transport): keyof DeviceConfig['ports'] {
  return transport === 'api-ssl' ? 'apiSsl' : transport;
}
