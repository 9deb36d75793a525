import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { systemClock } from '../../clock.js';
import { withDeadline } from '../../devices/deadline.js';
import { openSession } from '../../devices/open-session.js';
import type {
  DeviceConfig,
  DeviceSession,
  ScriptResult,
  SessionContext,
} from '../../devices/types.js';
import { AgentError, errorMessage } from '../../errors.js';
import { type Command, EXIT } from '../command.js';
import {
  createCommandLogger,
  exitCodeOf,
  openKnownHosts,
  reportError,
  sessionContextFor,
} from '../device-cli.js';
import {
  type ExecTarget,
  type ExecValues,
  portKeyOf,
  resolveTarget,
  usage,
} from '../exec-target.js';

const USAGE = `Usage:
  edge-agent exec --host HOST --transport api|api-ssl|ssh --user USER
                  (--password-file FILE | --key-file FILE) --file SCRIPT [options]
  edge-agent exec --config FILE --device ID --file SCRIPT [options]

Runs a RouterOS script once on one device and prints its output. Exits 0 when the script
succeeded, 1 when the run failed (device unreachable, login refused, script error, timeout),
and 2 on bad usage or configuration.

Options:
  --file FILE             script to run, UTF-8 text
  --host HOST             device host name or address
  --transport NAME        api, api-ssl or ssh
  --port PORT             TCP port (default: 8728 api, 8729 api-ssl, 22 ssh)
  --user USER             login name
  --password-file FILE    file with the password (one trailing newline is ignored)
  --key-file FILE         SSH private key in OpenSSH or PEM format
  --passphrase-file FILE  file with the private key's passphrase
  --tls-mode MODE         api-ssl: certificate (default) or anonymous
  --fingerprint HEX       api-ssl: expected SHA-256 certificate fingerprint
  --host-key SHA256:...   ssh: expected host key fingerprint
  --login-options TEXT    ssh: options after "+" in the login name (default: ct)
  --code-page NAME        device code page (default: windows-1252)
  --config FILE           agent configuration to take the device from
  --device ID             id of the device in --config
  --known-hosts FILE      pinned host keys and certificates
                          (default: $XDG_STATE_HOME/edge-agent/known-hosts.json)
  --timeout-ms N          upper bound on the whole run (connect, login, script), in
                          milliseconds, at most 86400000
                          (default: runs.runTimeoutMs of --config, else 300000)
  --connect-timeout-ms N  upper bound on connecting and logging in, in milliseconds,
                          at most 300000 (default: 10000)
  --json                  print one JSON object instead of the output and a summary
  --help                  print this help
`;

const OPTIONS = {
  file: { type: 'string' },
  host: { type: 'string' },
  transport: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'key-file': { type: 'string' },
  'passphrase-file': { type: 'string' },
  'tls-mode': { type: 'string' },
  fingerprint: { type: 'string' },
  'host-key': { type: 'string' },
  'login-options': { type: 'string' },
  'code-page': { type: 'string' },
  config: { type: 'string' },
  device: { type: 'string' },
  'known-hosts': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'connect-timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function parseExecArgs(argv: readonly string[]): ExecValues {
  return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false })
    .values;
}

/** `edge-agent exec`: runs one script on one device and reports the result. */
export const execCommand: Command = {
  summary: 'run a RouterOS script once on one device and print the result',

  async main(argv) {
    let values: ExecValues;
    try {
      values = parseExecArgs(argv);
    } catch (error) {
      process.stderr.write(`edge-agent exec: ${errorMessage(error)}\n\n${USAGE}`);
      return EXIT.usage;
    }

    if (values.help === true) {
      process.stdout.write(USAGE);
      return EXIT.ok;
    }

    try {
      const script = await readScript(values.file);
      const target = await resolveTarget(values);
      return await runOnce(target, script, values);
    } catch (error) {
      if (!(error instanceof AgentError)) {
        throw error;
      }

      reportError('exec', error);
      return exitCodeOf(error);
    }
  },
};

export default execCommand;

async function runOnce(target: ExecTarget, script: string, values: ExecValues): Promise<number> {
  const { device } = target;
  const logger = createCommandLogger();
  const trust = openKnownHosts(values['known-hosts']);
  const controller = new AbortController();
  // Either signal aborts every step of the run, which closes the connection and ends the run as
  // CANCELLED, so the command exits at once instead of after a timeout.
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let session: DeviceSession | undefined;
  try {
    const context = await sessionContextFor(
      device,
      trust,
      logger,
      target.timeouts,
      controller.signal,
    );
    const deadlineAt = Date.now() + target.runTimeoutMs;
    try {
      session = await openWithinTimeout(device, context, target.runTimeoutMs, controller);
    } catch (error) {
      if (!(error instanceof AgentError) || exitCodeOf(error) === EXIT.usage) {
        throw error;
      }

      printConnectFailure(device, error, values.json === true);
      return EXIT.failed;
    }

    const result = await session.run(script, {
      timeoutMs: Math.max(1, deadlineAt - Date.now()),
      signal: controller.signal,
    });
    printResult(device, session, result, values.json === true);
    return result.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await session?.close();
  }
}

/**
 * Opens the session, rejecting with TIMEOUT when connecting, logging in and identifying the
 * device take longer than `timeoutMs`, the whole run's bound. On that timeout the open is
 * aborted through `controller`, and a session that opens anyway is closed.
 */
async function openWithinTimeout(
  device: DeviceConfig,
  context: SessionContext,
  timeoutMs: number,
  controller: AbortController,
): Promise<DeviceSession> {
  const opening = openSession(device, context);
  try {
    return await withDeadline(opening, {
      clock: systemClock,
      timeoutMs,
      onTimeout: () => {
        const error = new AgentError(
          'TIMEOUT',
          `device ${device.id} was not connected, logged in and identified within the ${timeoutMs} ms of --timeout-ms; the script was not sent, so check the device or raise --timeout-ms`,
          { details: { deviceId: device.id, timeoutMs } },
        );
        controller.abort(error);
        return error;
      },
    });
  } catch (error) {
    opening.then(
      (session) => session.close(),
      () => undefined,
    );
    throw error;
  }
}

async function readScript(file: string | undefined): Promise<string> {
  if (file === undefined) {
    throw usage('--file is required: the script to run');
  }

  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw usage(`cannot read the script ${file}: ${errorMessage(error)}`);
  }

  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw usage(`the script ${file} is not UTF-8 text; save it as UTF-8`);
  }
}

function describeDevice(device: DeviceConfig) {
  const portKey = portKeyOf(device.transport);
  return {
    id: device.id,
    host: device.host,
    port: device.ports[portKey],
    transport: device.transport,
  };
}

function printConnectFailure(device: DeviceConfig, error: AgentError, json: boolean): void {
  if (json) {
    const failure = { device: describeDevice(device), status: 'failed', error: error.toJSON() };
    process.stdout.write(`${JSON.stringify(failure)}\n`);
    return;
  }

  reportError('exec', error);
}

function printResult(
  device: DeviceConfig,
  session: DeviceSession,
  result: ScriptResult,
  json: boolean,
): void {
  if (json) {
    const report = {
      device: describeDevice(device),
      facts: session.facts,
      status: result.status,
      result,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }

  process.stdout.write(result.output);
  if (!result.outputCaptured) {
    process.stderr.write('edge-agent exec: the device did not return the output of this run\n');
  }

  const elapsedMs = result.finishedAt - result.startedAt;
  const where = `${device.id} (RouterOS ${session.facts.version}, ${session.facts.board})`;
  if (result.error === undefined) {
    process.stderr.write(`edge-agent exec: ${where}: succeeded in ${elapsedMs} ms\n`);
    return;
  }

  const position =
    result.error.line === undefined
      ? ''
      : ` at line ${result.error.line} column ${result.error.column}`;
  process.stderr.write(
    `edge-agent exec: ${where}: failed in ${elapsedMs} ms: ${result.error.code}${position}: ${result.error.message}\n`,
  );
}
