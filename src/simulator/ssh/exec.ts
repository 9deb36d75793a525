import type { ServerChannel, Session } from 'ssh2';

import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging.js';
import type { DeviceFaults } from '../fleet/faults.js';
import { ShapedWriter } from '../fleet/shaped-writer.js';
import type { ScriptRun, SimulatedDevice } from '../model/types.js';
import type { ExecCommands } from './exec-command.js';

/**
 * `none`: like RouterOS, which sends no exit status, so clients see none; `zero`: always send
 * exit status 0, for clients that wait for one.
 */
export type ExitStatusMode = 'none' | 'zero';

export type ExecContext = {
  device: SimulatedDevice;
  faults: DeviceFaults;
  clock: Clock;
  logger: Logger;
  exitStatus: ExitStatusMode;
  /** Exact bytes of the connection's exec commands. */
  execCommands: ExecCommands;
  /** Destroys the TCP connection at once, with no SSH disconnect message. */
  dropConnection(): void;
  /** Ends the SSH connection with a disconnect message, as a router that ends a session. */
  disconnect(): void;
  /** Takes the device down, as `/system reboot` does. */
  reboot(): void;
};

/** Message printed to a client that asks for an interactive shell. */
export const SHELL_REJECTED =
  'interactive shell is not simulated; send RouterOS script as an exec command instead';

/**
 * Serves one SSH session: exec runs the command bytes as RouterOS script and prints its output
 * with CRLF line ends. Closing the channel or the connection stops the script. A pty request
 * is granted and ignored; a shell gets a message on stderr and the channel closes.
 */
export function serveSession(session: Session, context: ExecContext): void {
  session.on('pty', (accept) => accept?.());
  session.on('env', (accept) => accept?.());
  session.on('shell', (accept) => {
    const channel = accept();
    channel.stderr.write(`${SHELL_REJECTED}\r\n`);
    channel.close();
  });
  session.on('exec', (accept, _reject, info) => {
    const bytes = context.execCommands.take(info.command);
    const channel = accept();
    void runExec(channel, toBytes(info.command, bytes), context);
  });
}

async function runExec(channel: ServerChannel, script: string, context: ExecContext) {
  const { faults, logger } = context;
  if (faults.has('hang')) {
    return;
  }

  if (faults.has('fatal')) {
    context.disconnect();
    return;
  }

  if (faults.take('reboot')) {
    context.reboot();
    return;
  }

  const controller = new AbortController();
  channel.on('close', () => controller.abort());
  // ssh2 emits `close` on a server channel only after its input has ended, which never
  // happens while nothing reads it. The simulated exec takes no input, so discard it.
  channel.resume();

  let run: ScriptRun;
  try {
    run = await context.device.runScript(script, { signal: controller.signal, origin: 'ssh' });
  } catch (error) {
    logger.error({ err: error }, 'device model failed an ssh exec');
    run = { output: '', failure: { kind: 'runtime', message: 'failure: internal error' } };
  }

  if (controller.signal.aborted) {
    return;
  }

  await writeOutput(channel, consoleText(run), context);
}

async function writeOutput(channel: ServerChannel, text: string, context: ExecContext) {
  const bytes = Buffer.from(text, 'latin1');
  const writer = new ShapedWriter({
    sink: (chunk) => channel.write(chunk),
    isClosed: () => channel.destroyed,
    faults: context.faults,
    clock: context.clock,
  });

  if (context.faults.has('close-mid-reply')) {
    await writer.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    context.dropConnection();
    return;
  }

  await writer.write(bytes);
  if (channel.destroyed) {
    return;
  }

  if (context.exitStatus === 'zero') {
    channel.exit(0);
  }

  channel.end();
}

/** What the console shows: the output, then the error text of a failed script, CRLF line ends. */
function consoleText(run: ScriptRun): string {
  const failure = run.failure === undefined ? '' : `${run.failure.message}\n`;
  return `${run.output}${failure}`.replace(/\r?\n/g, '\r\n');
}

/**
 * Returns the command as a latin1 byte string: the captured bytes when known, else ssh2's
 * UTF-8 decoding encoded back.
 * NOTE: without captured bytes, bytes that are not valid UTF-8 arrive as U+FFFD. That happens
 * only under an ssh2 version whose internals `captureExecCommands` does not support.
 */
function toBytes(decoded: string, bytes: Buffer | undefined): string {
  return (bytes ?? Buffer.from(decoded, 'utf8')).toString('latin1');
}
