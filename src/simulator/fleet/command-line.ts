import { constants } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { type TlsMode, TRANSPORTS } from '../../devices/types.js';
import { AgentError } from '../../errors.js';
import type { LogLevel } from '../../logging.js';
import { isSshProfile, SSH_PROFILES } from '../ssh/algorithms.js';
import { FAULT_DESCRIPTIONS, FAULT_NAMES, parseFaultName } from './faults.js';
import { parseFleetFile } from './fleet-file.js';
import {
  DEFAULT_USER,
  DEFAULT_VERSION,
  type FleetDeviceOptions,
  type FleetOptions,
} from './options.js';

const OPTIONS = {
  devices: { type: 'string' },
  fleet: { type: 'string' },
  host: { type: 'string' },
  'distinct-hosts': { type: 'boolean' },
  'api-port': { type: 'string' },
  'api-ssl-port': { type: 'string' },
  'ssh-port': { type: 'string' },
  version: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'authorized-keys': { type: 'string' },
  'key-file': { type: 'string' },
  transport: { type: 'string' },
  'tls-mode': { type: 'string' },
  'ssh-profile': { type: 'string' },
  'strong-crypto': { type: 'boolean' },
  'exit-status': { type: 'string' },
  'latency-ms': { type: 'string' },
  'reboot-delay-ms': { type: 'string' },
  fault: { type: 'string', multiple: true },
  'state-dir': { type: 'string' },
  'per-device-keys': { type: 'boolean' },
  inventory: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const TLS_MODES: readonly TlsMode[] = ['certificate', 'anonymous'];

const EXIT_MODES = ['none', 'zero'] as const;

/** The action a `routeros-sim` command line requests. */
export type SimulatorCommand =
  | { kind: 'help' }
  | {
      kind: 'run';
      fleet: FleetOptions;
      /** File to write the inventory to; undefined writes it to standard output. */
      inventoryFile: string | undefined;
      logLevel: LogLevel;
    };

/** Parses `routeros-sim` arguments; throws USAGE_INVALID naming the bad option. */
export async function parseCommandLine(argv: readonly string[]): Promise<SimulatorCommand> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }

  if (values.help === true) {
    return { kind: 'help' };
  }

  const defaults = await deviceDefaults(values);
  const fleet: FleetOptions = {
    defaults,
    host: values.host ?? '127.0.0.1',
    distinctHosts: values['distinct-hosts'] ?? false,
    basePorts: {
      api: integer(values['api-port'], '--api-port', 0, 65535) ?? 0,
      apiSsl: integer(values['api-ssl-port'], '--api-ssl-port', 0, 65535) ?? 0,
      ssh: integer(values['ssh-port'], '--ssh-port', 0, 65535) ?? 0,
    },
    perDeviceKeys: values['per-device-keys'] ?? false,
  };

  // The inventory names files in the state directory, and the agent resolves relative paths
  // against its configuration file's directory, so every path is made absolute here.
  if (values['state-dir'] !== undefined) {
    fleet.stateDir = resolve(values['state-dir']);
  }

  if (values.fleet === undefined) {
    fleet.devices = integer(values.devices, '--devices', 1, 65_000) ?? 1;
  } else {
    const file = parseFleetFile(await readText(values.fleet, '--fleet'), values.fleet);
    // Flags given on the command line override the file's defaults, not its devices.
    fleet.defaults = { ...file.defaults, ...defaults };
    fleet.fleet = file.devices;
  }

  return {
    kind: 'run',
    fleet,
    inventoryFile: values.inventory,
    logLevel: logLevel(values['log-level']),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true });
}

type Values = ReturnType<typeof parse>['values'];

async function deviceDefaults(values: Values): Promise<FleetDeviceOptions> {
  const defaults: FleetDeviceOptions = {};
  setIfDefined(defaults, 'version', values.version);
  setIfDefined(defaults, 'user', values.user);
  setIfDefined(defaults, 'transport', oneOf(values.transport, '--transport', TRANSPORTS));
  setIfDefined(defaults, 'tlsMode', oneOf(values['tls-mode'], '--tls-mode', TLS_MODES));
  setIfDefined(defaults, 'strongCrypto', values['strong-crypto']);
  setIfDefined(defaults, 'exitStatus', oneOf(values['exit-status'], '--exit-status', EXIT_MODES));
  if (values.fault !== undefined) {
    defaults.faults = values.fault.map(parseFaultName);
  }

  const profile = values['ssh-profile'];
  if (profile !== undefined) {
    if (!isSshProfile(profile)) {
      throw usage(`--ssh-profile must be one of ${SSH_PROFILES.join(', ')}, got "${profile}"`);
    }

    defaults.sshProfile = profile;
  }

  setIfDefined(defaults, 'latencyMs', integer(values['latency-ms'], '--latency-ms', 0, 3_600_000));
  setIfDefined(
    defaults,
    'rebootDelayMs',
    integer(values['reboot-delay-ms'], '--reboot-delay-ms', 0, 3_600_000),
  );
  setIfDefined(
    defaults,
    'passwordFile',
    await readable(values['password-file'], '--password-file'),
  );
  setIfDefined(defaults, 'keyFile', await readable(values['key-file'], '--key-file'));

  if (values['authorized-keys'] !== undefined) {
    defaults.authorizedKeys = await readText(values['authorized-keys'], '--authorized-keys');
  }

  return defaults;
}

function setIfDefined<K extends keyof FleetDeviceOptions>(
  target: FleetDeviceOptions,
  key: K,
  value: FleetDeviceOptions[K] | undefined,
): void {
  if (value !== undefined) {
    target[key] = value;
  }
}

function integer(text: string | undefined, flag: string, min: number, max: number) {
  if (text === undefined) {
    return undefined;
  }

  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw usage(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }

  return value;
}

function oneOf<T extends string>(text: string | undefined, flag: string, allowed: readonly T[]) {
  if (text === undefined) {
    return undefined;
  }

  if (!(allowed as readonly string[]).includes(text)) {
    throw usage(`${flag} must be one of ${allowed.join(', ')}, got "${text}"`);
  }

  return text as T;
}

function logLevel(text: string | undefined): LogLevel {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  return oneOf(text, '--log-level', levels) ?? 'info';
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw unreadable(path, flag, error);
  }
}

/**
 * Returns `path`, made absolute, once it proves readable, so a wrong file given on the command
 * line is a usage error before any device starts. The devices read the file later.
 */
async function readable(path: string | undefined, flag: string): Promise<string | undefined> {
  if (path === undefined) {
    return undefined;
  }

  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw unreadable(path, flag, error);
  }

  return resolve(path);
}

function unreadable(path: string, flag: string, cause: unknown): AgentError {
  const reason = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
  return new AgentError(
    'USAGE_INVALID',
    `cannot read ${flag} file ${path} (${reason}); check the path and its permissions`,
    { cause, details: { option: flag, path } },
  );
}

function usage(message: string): AgentError {
  return new AgentError('USAGE_INVALID', `${message}; run "routeros-sim --help"`);
}

/** Writes the inventory as `{ "devices": [...] }`, to a file or to `output`. */
export async function writeInventory(
  devices: unknown[],
  file: string | undefined,
  output: NodeJS.WritableStream,
): Promise<void> {
  const text = `${JSON.stringify({ devices }, null, 2)}\n`;
  if (file === undefined) {
    output.write(text);
  } else {
    await writeFile(file, text);
  }
}

/** Help text of `routeros-sim`, with every fault described. */
export function helpText(): string {
  const faults = FAULT_NAMES.map((name) => `  ${name.padEnd(16)} ${FAULT_DESCRIPTIONS[name]}`);
  return [
    'Usage: routeros-sim [options]',
    '',
    'Starts simulated MikroTik RouterOS devices (API, API-SSL and SSH) in one process, writes',
    'their inventory as JSON and runs until SIGINT or SIGTERM.',
    '',
    'Options:',
    '  --devices N            number of devices (default 1; ignored with --fleet)',
    '  --fleet FILE           YAML or JSON file listing devices: { defaults: {...}, devices: [...] }',
    '  --host ADDRESS         listen address of every device (default 127.0.0.1)',
    '  --distinct-hosts       give device N its own address: 127.0.1.1, 127.0.1.2, ...',
    '  --api-port PORT        first API port, counting up per device (default 0: kernel chooses)',
    '  --api-ssl-port PORT    first API-SSL port (default 0)',
    '  --ssh-port PORT        first SSH port (default 0)',
    `  --version VERSION      RouterOS version, e.g. 7.18.2, 6.49.10, 6.43rc4 (default ${DEFAULT_VERSION})`,
    `  --user NAME            login name (default ${DEFAULT_USER})`,
    '  --password-file FILE   password of the user (default: generated into the state directory)',
    '  --authorized-keys FILE OpenSSH authorized_keys of the user',
    '  --key-file FILE        private key whose public key is authorized; listed in the inventory',
    `  --transport NAME       transport the inventory names: ${TRANSPORTS.join(', ')} (default api)`,
    '  --tls-mode MODE        API-SSL with a certificate or anonymous DH: certificate, anonymous',
    `  --ssh-profile NAME     SSH algorithms: ${SSH_PROFILES.join(', ')} (default from the version)`,
    '  --strong-crypto        RouterOS 6 strong-crypto=yes: group-exchange-sha256 only',
    '  --exit-status MODE     SSH exit status after exec: none (as RouterOS), zero',
    '  --latency-ms N         delay before each reply, in milliseconds (default 0)',
    '  --reboot-delay-ms N    how long a reboot keeps a device down, in milliseconds (default 2000)',
    '  --fault NAME           switch a fault on for every device; repeat for several',
    '  --state-dir DIR        keep passwords, host keys and the certificate here across runs',
    '                         (default: a temporary directory removed on exit); created with',
    '                         mode 0700 when missing',
    '  --per-device-keys      give every device its own host keys and certificate',
    '  --inventory FILE       write the inventory here instead of standard output',
    '  --log-level LEVEL      fatal, error, warn, info, debug, trace, silent (default info)',
    '  -h, --help             show this help',
    '',
    'Faults:',
    ...faults,
    '',
    'Logs go to standard error as JSON lines; a line "routeros-sim: N devices ready" follows once',
    'every port listens.',
    '',
  ].join('\n');
}
