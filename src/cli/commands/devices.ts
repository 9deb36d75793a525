import { parseArgs } from 'node:util';

import PQueue from 'p-queue';

import { loadConfig, resolveConfigFile } from '../../config/load.js';
import { isAfterLogin } from '../../devices/login-step.js';
import { openSession } from '../../devices/open-session.js';
import type { DeviceConfig, DeviceFacts } from '../../devices/types.js';
import { AgentError, type ErrorCode, errorMessage } from '../../errors.js';
import type { Logger } from '../../logging.js';
import { type Command, EXIT } from '../command.js';
import {
  createCommandLogger,
  exitCodeOf,
  openKnownHosts,
  reportError,
  sessionContextFor,
  type TimeoutOptions,
} from '../device-cli.js';

const USAGE = `Usage: edge-agent devices [--config FILE] [--json] [--concurrency N] [--known-hosts FILE]

Connects to every configured device at once (a few at a time), logs in and reads its RouterOS
version, board and identity. REACHABLE and LOGIN show how far each device got, and ERROR the
code of the step that failed. Exits 0 when every device logged in and answered, 1 when any did
not, and 2 on bad usage or configuration.

Options:
  --config FILE       configuration file (default: $EDGE_AGENT_CONFIG or /etc/edge-agent/config.yaml)
  --concurrency N     devices probed at once (default: 8)
  --known-hosts FILE  pinned host keys and certificates
                      (default: $XDG_STATE_HOME/edge-agent/known-hosts.json)
  --json              print a JSON array instead of a table
  --help              print this help
`;

const DEFAULT_CONCURRENCY = 8;

/** Codes that show the device answered on the network although the login failed. */
const ANSWERED_CODES: ReadonlySet<ErrorCode> = new Set([
  'AUTH_FAILED',
  'TLS_FAILED',
  'HOST_KEY_MISMATCH',
  'CONNECTION_LOST',
  'DEVICE_PROTOCOL_ERROR',
  'UNSUPPORTED',
  'ENCODING_ERROR',
]);

/** What probing one device found. */
export type DeviceProbe = {
  id: string;
  host: string;
  transport: string;
  /** The device answered on its port. */
  reachable: boolean;
  /** The login succeeded. `error` is set when reading the device facts then failed. */
  loggedIn: boolean;
  facts?: DeviceFacts;
  /** Milliseconds from starting to connect until the facts were read (connect, login, 2 reads). */
  roundTripMs?: number;
  error?: { code: ErrorCode; message: string };
};

/** `edge-agent devices`: probes every configured device and prints what it found. */
export const devicesCommand: Command = {
  summary: 'connect to every configured device and print its version and state',

  async main(argv) {
    let values: {
      config?: string;
      json?: boolean;
      concurrency?: string;
      'known-hosts'?: string;
      help?: boolean;
    };
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          config: { type: 'string' },
          json: { type: 'boolean' },
          concurrency: { type: 'string' },
          'known-hosts': { type: 'string' },
          help: { type: 'boolean' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      process.stderr.write(`edge-agent devices: ${errorMessage(error)}\n\n${USAGE}`);
      return EXIT.usage;
    }

    if (values.help === true) {
      process.stdout.write(USAGE);
      return EXIT.ok;
    }

    try {
      const concurrency = parseConcurrency(values.concurrency);
      const config = await loadConfig(resolveConfigFile(values.config));
      const logger = createCommandLogger();
      const trust = openKnownHosts(values['known-hosts']);
      const timeouts = {
        connectTimeoutMs: config.runs.connectTimeoutMs,
        commandTimeoutMs: config.runs.commandTimeoutMs,
      };
      const queue = new PQueue({ concurrency });
      const probes = await Promise.all(
        config.devices.map((device) =>
          queue.add(() => probeDevice(device, { trust, logger, timeouts })),
        ),
      );

      printProbes(probes, values.json === true);
      return probes.every((probe) => probe.error === undefined) ? EXIT.ok : EXIT.failed;
    } catch (error) {
      if (!(error instanceof AgentError)) {
        throw error;
      }

      reportError('devices', error);
      return exitCodeOf(error);
    }
  },
};

export default devicesCommand;

type ProbeContext = {
  trust: ReturnType<typeof openKnownHosts>;
  logger: Logger;
  timeouts: TimeoutOptions;
};

/** Connects, logs in, reads the facts and closes. Never throws for a device failure. */
export async function probeDevice(
  device: DeviceConfig,
  context: ProbeContext,
): Promise<DeviceProbe> {
  const probe: DeviceProbe = {
    id: device.id,
    host: device.host,
    transport: device.transport,
    reachable: false,
    loggedIn: false,
  };

  const startedAt = Date.now();
  try {
    const sessionContext = await sessionContextFor(
      device,
      context.trust,
      context.logger,
      context.timeouts,
    );
    const session = await openSession(device, sessionContext);
    probe.roundTripMs = Date.now() - startedAt;
    probe.reachable = true;
    probe.loggedIn = true;
    probe.facts = session.facts;
    await session.close();
  } catch (error) {
    const failure =
      error instanceof AgentError
        ? error
        : new AgentError('INTERNAL', `probing device ${device.id} failed: ${errorMessage(error)}`);
    const loggedIn = isAfterLogin(failure);
    probe.reachable = loggedIn || ANSWERED_CODES.has(failure.code);
    probe.loggedIn = loggedIn;
    probe.error = { code: failure.code, message: failure.message };
  }

  return probe;
}

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) {
    return DEFAULT_CONCURRENCY;
  }

  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 256) {
    throw new AgentError(
      'USAGE_INVALID',
      `--concurrency expects a number from 1 to 256, got "${text}"`,
    );
  }

  return value;
}

const COLUMNS = [
  'ID',
  'HOST',
  'TRANSPORT',
  'REACHABLE',
  'LOGIN',
  'VERSION',
  'BOARD',
  'IDENTITY',
  'RTT',
  'ERROR',
];

function printProbes(probes: readonly DeviceProbe[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(probes)}\n`);
    return;
  }

  const rows = probes.map((probe) => [
    probe.id,
    probe.host,
    probe.transport,
    probe.reachable ? 'yes' : 'no',
    probe.loggedIn ? 'yes' : 'no',
    probe.facts?.version ?? '-',
    probe.facts?.board ?? '-',
    probe.facts?.identity ?? '-',
    probe.roundTripMs === undefined ? '-' : `${probe.roundTripMs} ms`,
    probe.error?.code ?? '-',
  ]);
  const widths = COLUMNS.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index]?.length ?? 0)),
  );
  const format = (row: readonly string[]) =>
    row
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();

  const lines = [format(COLUMNS), ...rows.map(format)];
  process.stdout.write(`${lines.join('\n')}\n`);

  for (const probe of probes) {
    if (probe.error !== undefined) {
      process.stderr.write(`${probe.id}: ${probe.error.code}: ${probe.error.message}\n`);
    }
  }
}
