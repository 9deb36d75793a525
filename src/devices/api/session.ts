import { AgentError, isAgentError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import { classifyErrorText } from '../classify.js';
import { fromByteString, toByteString } from '../encoding.js';
import { failedAfterLogin } from '../login-step.js';
import { failedResult, type RunTimes, resultFromOutput, toRunError } from '../result.js';
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
import { ApiTrapError, TRAP_INTERRUPTED } from './api-trap.js';
import { runInBackground } from './background-run.js';
import { ApiConnection, type CommandOptions } from './connection.js';
import { apiTlsOptions, certificateVerifier } from './tls.js';

/**
 * How scripts run: `execute` is `/execute =as-string=` (RouterOS 7), which returns the output;
 * `background` is the RouterOS 6 job with an output file (see background-run.ts).
 */
type RunMethod = 'execute' | 'background';

/** Opens an API or API-SSL session: connects, logs in and reads the device facts. */
export const openApiSession: OpenSession = async (device, context) => {
  const password = context.credentials.password;
  if (password === undefined) {
    throw new AgentError(
      'CONFIG_INVALID',
      `device ${device.id} uses the ${device.transport} transport but has no password; set passwordFile (SSH keys do not work over the API)`,
      { details: { deviceId: device.id } },
    );
  }

  const isTls = device.transport === 'api-ssl';
  const tls = isTls ? apiTlsOptions(device) : undefined;
  const verifyPeer = isTls ? certificateVerifier(device, context.trust) : undefined;
  const logger = context.logger.child({ transport: device.transport });
  const connection = await ApiConnection.open({
    deviceId: device.id,
    host: device.host,
    port: isTls ? device.ports.apiSsl : device.ports.api,
    ...(tls === undefined ? {} : { tls }),
    ...(verifyPeer === undefined ? {} : { verifyPeer }),
    username: toByteString(device.username, device.codePage, 'user name'),
    password: toByteString(password, device.codePage, 'password'),
    clock: context.clock,
    logger,
    connectTimeoutMs: context.connectTimeoutMs,
    commandTimeoutMs: context.commandTimeoutMs,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
  });

  try {
    const facts = await readFacts(device, connection, {
      timeoutMs: context.commandTimeoutMs,
      signal: context.signal,
    });
    return new ApiSession(device, facts, connection, context, logger);
  } catch (error) {
    connection.close();
    throw failedAfterLogin(error);
  }
};

async function readFacts(
  device: DeviceConfig,
  connection: ApiConnection,
  options: CommandOptions,
): Promise<DeviceFacts> {
  // Both commands are sent at once: tagged commands run side by side on one connection, so the
  // facts cost one round trip instead of two.
  const [resource, identity] = await Promise.all([
    connection.command(['/system/resource/print'], options),
    connection.command(['/system/identity/print'], options),
  ]);
  const text = (value: string | undefined) => fromByteString(value ?? '', device.codePage);
  const version = text(resource.rows[0]?.version);
  if (version === '') {
    throw new AgentError(
      'DEVICE_PROTOCOL_ERROR',
      `device ${device.id} did not return its RouterOS version from /system/resource/print`,
      { details: { deviceId: device.id } },
    );
  }

  return {
    version,
    board: text(resource.rows[0]?.['board-name']),
    architecture: text(resource.rows[0]?.['architecture-name']),
    identity: text(identity.rows[0]?.name),
  };
}

/** A RouterOS device over the API or API-SSL. */
class ApiSession implements DeviceSession {
  readonly device: DeviceConfig;

  readonly facts: DeviceFacts;

  private readonly connection: ApiConnection;

  private readonly context: SessionContext;

  private readonly logger: Logger;

  /** Chosen from the major version, and switched to `background` when `/execute` rejects it. */
  private method: RunMethod;

  constructor(
    device: DeviceConfig,
    facts: DeviceFacts,
    connection: ApiConnection,
    context: SessionContext,
    logger: Logger,
  ) {
    this.device = device;
    this.facts = facts;
    this.connection = connection;
    this.context = context;
    this.logger = logger;
    this.method = majorVersion(facts.version) >= 7 ? 'execute' : 'background';
  }

  async run(script: string, options: RunOptions): Promise<ScriptResult> {
    const startedAt = this.context.clock.now();
    const times = (): RunTimes => ({ startedAt, finishedAt: this.context.clock.now() });

    let bytes: string;
    try {
      bytes = toByteString(script, this.device.codePage);
    } catch (error) {
      return failedResult(toRunError(error), times());
    }

    this.logger.debug({ method: this.method, bytes: bytes.length }, 'API run started');
    if (this.method === 'execute') {
      const result = await this.runExecute(bytes, options, times);
      if (result !== 'unsupported') {
        return result;
      }

      this.logger.info('device rejects /execute as-string; running scripts as background jobs');
      this.method = 'background';
    }

    return this.runBackground(bytes, options, times);
  }

  async exportConfig(options: RunOptions): Promise<string> {
    const result = await this.run('/export', options);
    if (result.error !== undefined) {
      throw new AgentError(
        result.error.code,
        `/export on device ${this.device.id} failed: ${result.error.message}`,
      );
    }

    if (!result.outputCaptured) {
      throw new AgentError(
        'UNSUPPORTED',
        `the export of device ${this.device.id} is too large to read over the RouterOS 6 API (about 4 KB at most); use the ssh transport for this device`,
        { details: { deviceId: this.device.id } },
      );
    }

    return result.output;
  }

  close(): Promise<void> {
    this.connection.close();
    return Promise.resolve();
  }

  private async runExecute(
    bytes: string,
    options: RunOptions,
    times: () => RunTimes,
  ): Promise<ScriptResult | 'unsupported'> {
    try {
      const reply = await this.connection.command(['/execute', `=script=${bytes}`, '=as-string='], {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
      return resultFromOutput(fromByteString(reply.done.ret ?? '', this.device.codePage), times());
    } catch (error) {
      if (error instanceof ApiTrapError && isUnknownParameter(error)) {
        return 'unsupported';
      }

      return failedResult(this.runErrorOf(error), times());
    }
  }

  private async runBackground(
    bytes: string,
    options: RunOptions,
    times: () => RunTimes,
  ): Promise<ScriptResult> {
    try {
      const outcome = await runInBackground(bytes, {
        connection: this.connection,
        clock: this.context.clock,
        logger: this.logger,
        codePage: this.device.codePage,
        commandTimeoutMs: this.context.commandTimeoutMs,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
      if (outcome.error !== undefined) {
        return failedResult(outcome.error, times(), outcome.output, outcome.outputCaptured);
      }

      return {
        status: 'succeeded',
        output: outcome.output,
        outputCaptured: outcome.outputCaptured,
        ...times(),
      };
    } catch (error) {
      return failedResult(this.runErrorOf(error), times(), '', false);
    }
  }

  /**
   * Classifies a trap by its text. Transport errors (TIMEOUT, CANCELLED, ...) stay as they are,
   * except a lost connection, whose message warns that the script may have run.
   */
  private runErrorOf(error: unknown): RunError {
    if (!(error instanceof ApiTrapError)) {
      if (isAgentError(error, 'CONNECTION_LOST')) {
        this.connection.close();
        return this.lostWhileRunning(error);
      }

      return toRunError(error);
    }

    const interrupted = error.category === TRAP_INTERRUPTED;
    const classified = classifyErrorText(error.traps[0]?.message ?? '');
    return {
      code: classified?.code ?? 'SCRIPT_FAILED',
      message: interrupted
        ? `the script on device ${this.device.id} was interrupted on the device: ${error.message}`
        : `the script failed on device ${this.device.id}: ${error.message}; check the device's state and the script`,
      ...(classified?.line === undefined ? {} : { line: classified.line }),
      ...(classified?.column === undefined ? {} : { column: classified.column }),
    };
  }

  /**
   * Describes a connection lost during a run. The connection's own message advises running the
   * command again, which is wrong once the script was sent: the device may have run it, and on
   * RouterOS 6 its background job goes on without the session.
   */
  private lostWhileRunning(error: AgentError): RunError {
    const reason = error.details.reason;
    const sent = typeof reason === 'string' ? ` (the device sent !fatal ${reason})` : '';
    const goesOn =
      this.method === 'background' ? '; a RouterOS 6 background job goes on without it' : '';
    return {
      code: 'CONNECTION_LOST',
      message: `the API connection to device ${this.device.id} (${this.connection.address}) closed before the device returned the script's outcome${sent}, so the script may have run${goesOn}; check the device before running the script again`,
    };
  }
}

function isUnknownParameter(error: ApiTrapError): boolean {
  return error.traps.some((trap) => trap.message.startsWith('unknown parameter'));
}

function majorVersion(version: string): number {
  return Number.parseInt(version, 10) || 0;
}
