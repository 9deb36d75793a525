import { randomBytes } from 'node:crypto';

import type { Client, ClientChannel } from 'ssh2';

import { AgentError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import { clampToScript, classifyOutput, stoppedBeforeEndError } from '../classify.js';
import { cancelledError } from '../deadline.js';
import { decodeBytes, encodeText } from '../encoding.js';
import { failedAfterLogin } from '../login-step.js';
import { failedResult, type RunTimes, toRunError } from '../result.js';
import type {
  DeviceConfig,
  DeviceFacts,
  DeviceSession,
  OpenSession,
  RunError,
  RunOptions,
  ScriptResult,
  SessionContext,
} from '../types.js';
import { connectSsh } from './connect.js';

/**
 * Prints the device facts one `name=value` line each. Space-separated menu paths, because
 * RouterOS 6 accepts no other form.
 */
const FACTS_SCRIPT = [
  ':put ("version=" . [/system resource get version])',
  ':put ("board=" . [/system resource get board-name])',
  ':put ("architecture=" . [/system resource get architecture-name])',
  ':put ("identity=" . [/system identity get name])',
].join('\r\n');

/**
 * Largest exec request command, in bytes: the script and the end marker line together. The
 * request must fit one SSH packet. RFC 4253 only guarantees packets with 32768 bytes of
 * payload, and ssh2-based servers reject anything larger by closing the connection.
 * NOTE: RouterOS's own limit is not documented; OpenSSH accepts up to 256 KiB.
 */
export const MAX_EXEC_SCRIPT_BYTES = 32_768 - 256;

/** Hex digits of the random part of the end marker, from 6 random bytes. */
const MARKER_ID_LENGTH = 12;

/**
 * Largest script a user may run over SSH, in bytes of its code page: 32,472, which is
 * `MAX_EXEC_SCRIPT_BYTES` less the 40-byte end marker line appended to every script.
 */
export const MAX_SSH_SCRIPT_BYTES =
  MAX_EXEC_SCRIPT_BYTES - endMarkerLine(markerOf('0'.repeat(MARKER_ID_LENGTH))).length;

/** Kind of exec request: the facts script read at login, or a script of a run. */
type ExecStep = 'facts' | 'script';

/** Result of an exec: its decoded output and, when it did not end by itself, the reason. */
type ExecOutcome = { output: string; failure?: AgentError };

/** Opens an SSH session: connects, logs in and reads the device facts. */
export const openSshSession: OpenSession = async (device, context) => {
  const client = await connectSsh(device, context);
  const logger = context.logger.child({ transport: 'ssh' });
  const session = new SshSession(device, client, context, logger);
  try {
    await session.identify();
  } catch (error) {
    if (context.signal?.aborted === true) {
      session.destroy();
    } else {
      await session.close();
    }

    throw failedAfterLogin(error);
  }

  return session;
};

/**
 * A RouterOS device over SSH exec: every run is one exec request whose command is the script
 * with an end marker line appended. Results are classified by output text, because RouterOS
 * sends no exit status.
 */
class SshSession implements DeviceSession {
  readonly device: DeviceConfig;

  private readonly client: Client;

  private readonly context: SessionContext;

  private readonly logger: Logger;

  /** Set by `identify`, which `openSshSession` awaits before returning the session. */
  private knownFacts: DeviceFacts | undefined;

  /** Set by `close`; a second call returns at once. */
  private closed = false;

  /** Set when the SSH connection has closed, by `close` or by the device. */
  private disconnected = false;

  constructor(device: DeviceConfig, client: Client, context: SessionContext, logger: Logger) {
    this.device = device;
    this.client = client;
    this.context = context;
    this.logger = logger;
    client.once('close', () => {
      this.disconnected = true;
    });
  }

  get facts(): DeviceFacts {
    if (this.knownFacts === undefined) {
      throw new AgentError('INTERNAL', `device ${this.device.id} was not identified`);
    }

    return this.knownFacts;
  }

  async identify(): Promise<void> {
    const { commandTimeoutMs, signal } = this.context;
    const outcome = await this.exec(
      encodeText(FACTS_SCRIPT, this.device.codePage),
      { timeoutMs: commandTimeoutMs, ...(signal === undefined ? {} : { signal }) },
      'facts',
    );
    if (outcome.failure !== undefined) {
      throw outcome.failure;
    }

    this.knownFacts = parseFacts(this.device, outcome.output);
  }

  async run(script: string, options: RunOptions): Promise<ScriptResult> {
    const startedAt = this.context.clock.now();
    const times = () => ({ startedAt, finishedAt: this.context.clock.now() });

    let encoded: Buffer;
    try {
      encoded = encodeText(script, this.device.codePage);
    } catch (error) {
      return failedResult(toRunError(error), times());
    }

    if (encoded.length > MAX_SSH_SCRIPT_BYTES) {
      return failedResult(this.tooLong(encoded.length), times());
    }

    const marker = markerOf(randomBytes(MARKER_ID_LENGTH / 2).toString('hex'));
    const command = Buffer.concat([encoded, endMarkerLine(marker)]);

    this.logger.debug({ bytes: command.length }, 'SSH run started');
    const outcome = await this.exec(command, options, 'script');
    if (outcome.failure !== undefined) {
      return failedResult(toRunError(outcome.failure), times(), outcome.output);
    }

    return resultWithMarker(outcome.output, marker, script, times());
  }

  async exportConfig(options: RunOptions): Promise<string> {
    const outcome = await this.exec(Buffer.from('/export'), options, 'script');
    if (outcome.failure !== undefined) {
      throw outcome.failure;
    }

    const error = classifyOutput(outcome.output);
    if (error !== undefined) {
      throw new AgentError(
        error.code,
        `/export on device ${this.device.id} failed: ${error.message}`,
      );
    }

    return outcome.output;
  }

  /** Drops the connection without the SSH goodbye, for a session given up on after an abort. */
  destroy(): void {
    this.closed = true;
    this.client.destroy();
  }

  close(): Promise<void> {
    if (this.closed || this.disconnected) {
      this.closed = true;
      return Promise.resolve();
    }

    this.closed = true;
    return new Promise((resolve) => {
      const timer = this.context.clock.setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 1000);
      this.client.once('close', () => {
        this.context.clock.clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }

  /**
   * Runs one exec request and collects stdout and then stderr. Resolves, never rejects: a
   * timeout, an abort or a lost connection closes the channel and comes back as `failure`,
   * with the output received until then. `step` names what timed out: the facts read, bound
   * by the command timeout, or a script, bound by the run's time limit.
   */
  private exec(command: Buffer, options: RunOptions, step: ExecStep): Promise<ExecOutcome> {
    const { clock } = this.context;
    const { signal } = options;

    return new Promise((resolve) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let channel: ClientChannel | undefined;
      let done = false;

      const finish = (failure?: AgentError): void => {
        if (done) {
          return;
        }

        done = true;
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.client.removeListener('close', onClientClose);
        channel?.close();
        const output = decodeBytes(Buffer.concat([...stdout, ...stderr]), this.device.codePage);
        resolve(failure === undefined ? { output } : { output, failure });
      };

      const onAbort = (): void => finish(cancelledError(signal, this.stepName(step)));
      const onClientClose = (): void => finish(this.connectionLost());
      const timer = clock.setTimeout(
        () => finish(this.timedOut(step, options.timeoutMs)),
        options.timeoutMs,
      );
      if (signal?.aborted === true) {
        onAbort();
        return;
      }

      signal?.addEventListener('abort', onAbort, { once: true });
      this.client.once('close', onClientClose);
      this.startExec(command, (error, opened) => {
        if (error !== undefined || opened === undefined) {
          finish(error);
          return;
        }

        channel = opened;
        if (done) {
          opened.close();
          return;
        }

        opened.on('data', (chunk: Buffer) => stdout.push(chunk));
        opened.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        opened.once('close', () => finish());
      });
    });
  }

  private startExec(
    command: Buffer,
    callback: (error: AgentError | undefined, channel?: ClientChannel) => void,
  ): void {
    try {
      // ssh2 writes a Buffer command as is; its typings only admit strings. The script must
      // reach the device as bytes of its code page, which a string would turn into UTF-8.
      this.client.exec(command as unknown as string, (error, channel) => {
        callback(error === undefined ? undefined : this.execRefused(error), channel);
      });
    } catch (error) {
      callback(this.connectionLost(error));
    }
  }

  /** Builds the error of a script of `bytes`, more than `MAX_SSH_SCRIPT_BYTES`. */
  private tooLong(bytes: number): RunError {
    return {
      code: 'UNSUPPORTED',
      message: `the script is ${bytes} bytes in ${this.device.codePage}, more than the ${MAX_SSH_SCRIPT_BYTES} bytes a script may have over SSH (one exec request carries ${MAX_EXEC_SCRIPT_BYTES} bytes safely, including the end marker line); nothing was sent, so use the api or api-ssl transport for this script`,
    };
  }

  private execRefused(error: Error): AgentError {
    return new AgentError(
      'UNSUPPORTED',
      `device ${this.device.id} refused the SSH exec request: ${error.message}; check that the user may run commands over SSH`,
      { cause: error, details: { deviceId: this.device.id } },
    );
  }

  private connectionLost(cause?: unknown): AgentError {
    return new AgentError(
      'CONNECTION_LOST',
      `the SSH connection to device ${this.device.id} closed before the script finished; check whether the script ran on the device before running it again`,
      { cause, details: { deviceId: this.device.id } },
    );
  }

  private stepName(step: ExecStep): string {
    return step === 'facts'
      ? `reading the facts of device ${this.device.id}`
      : `the run on device ${this.device.id}`;
  }

  private timedOut(step: ExecStep, timeoutMs: number): AgentError {
    const limit =
      step === 'facts'
        ? `the command timeout of ${timeoutMs} ms (runs.commandTimeoutMs); the script was not sent`
        : `its time limit of ${timeoutMs} ms; its SSH channel was closed to stop it`;
    return new AgentError('TIMEOUT', `${this.stepName(step)} did not finish within ${limit}`, {
      details: { deviceId: this.device.id, timeoutMs, step },
    });
  }
}

/**
 * The line appended to every script: it prints a marker once the script ran to its end, which
 * is the only sign of success SSH gives, because RouterOS prints an `:error` message like any
 * other output and sends no exit status. Two line ends come first, so that a trailing `\` in
 * the script joins an empty line, not the marker.
 */
function endMarkerLine(marker: string): Buffer {
  return Buffer.from(`\r\n\r\n:put "${marker}"\r\n`, 'latin1');
}

/** Builds the marker text around a random id of `MARKER_ID_LENGTH` hex digits. */
function markerOf(id: string): string {
  return `edge-agent-end-${id}`;
}

/**
 * Builds the result of a run from output that ends with the marker when the script ran to its
 * end. Without the marker the run failed: the last line is the device's error text.
 */
function resultWithMarker(
  output: string,
  marker: string,
  script: string,
  times: RunTimes,
): ScriptResult {
  const markerAt = output.lastIndexOf(`${marker}\r\n`);
  if (markerAt !== -1 && output.slice(markerAt + marker.length + 2).trim() === '') {
    return {
      status: 'succeeded',
      output: output.slice(0, markerAt),
      outputCaptured: true,
      ...times,
    };
  }

  return failedResult(clampToScript(stoppedBeforeEndError(output), script), times, output);
}

function parseFacts(device: DeviceConfig, output: string): DeviceFacts {
  const values = new Map<string, string>();
  for (const line of output.split(/\r\n|\r|\n/)) {
    const separator = line.indexOf('=');
    if (separator > 0) {
      values.set(line.slice(0, separator).trim(), line.slice(separator + 1).trim());
    }
  }

  const version = values.get('version');
  if (version === undefined || version === '') {
    throw new AgentError(
      'DEVICE_PROTOCOL_ERROR',
      `device ${device.id} did not report its RouterOS version over SSH; it printed: ${JSON.stringify(output.slice(0, 200))}`,
      { details: { deviceId: device.id } },
    );
  }

  return {
    version,
    board: values.get('board') ?? '',
    architecture: values.get('architecture') ?? '',
    identity: values.get('identity') ?? '',
  };
}
