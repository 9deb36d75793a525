import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';

import { Channel, Connector } from 'node-routeros';

import type { Clock } from '../../clock.js';
import { AgentError, errorMessage } from '../../errors.js';
import type { Logger } from '../../logging.js';
import { cancelledError, withDeadline } from '../deadline.js';
import { ApiTrapError } from './api-trap.js';
import { connectionFailure, setDroppedReplyListener } from './connection-state.js';
import { applyNodeRouterosFixes, CHANNEL_FAILED } from './node-routeros-fixes.js';
import type { ChannelInternals, ConnectorInternals } from './node-routeros-internals.js';

/** Everything needed to open one logged-in API connection. Words are byte strings. */
export type ApiConnectOptions = {
  /** Names the device in messages and logs. */
  deviceId: string;
  host: string;
  port: number;
  /** TLS options for API-SSL; undefined for the plain API. */
  tls?: ConnectionOptions;
  /** Checks the TLS peer after the handshake, before credentials are sent; throws to reject. */
  verifyPeer?: (socket: TLSSocket) => void;
  /** Login name as a byte string. */
  username: string;
  /** Password as a byte string. */
  password: string;
  clock: Clock;
  logger: Logger;
  /** Upper bound on TCP connect, TLS handshake and login together, in milliseconds. */
  connectTimeoutMs: number;
  /** Upper bound on `/cancel` and other housekeeping commands, in milliseconds. */
  commandTimeoutMs: number;
  /**
   * Seconds of socket inactivity after which node-routeros reports the socket idle. The fixes
   * ignore the report, so an idle connection stays open. Default 10, node-routeros's own.
   */
  idleTimeoutSeconds?: number;
  signal?: AbortSignal;
};

/** A finished command: its `!re` rows and the attributes of its `!done` (such as `ret`). */
export type ApiReply = {
  rows: Array<Record<string, string>>;
  done: Record<string, string>;
};

export type CommandOptions = {
  /** Upper bound on this command, in milliseconds. */
  timeoutMs: number;
  /**
   * Signal that closes the connection at once and rejects with CANCELLED. RouterOS stops a
   * session's commands when the session ends, and a device that sends no replies would never
   * confirm a `/cancel`.
   */
  signal?: AbortSignal | undefined;
  /** Whether a timeout sends `/cancel` for the command. Default true. */
  cancelOnDevice?: boolean;
};

/**
 * One logged-in RouterOS API connection on node-routeros, with the fixes applied. Commands are
 * tagged, so several may run at once; each has its own timeout and can be cancelled.
 */
export class ApiConnection {
  readonly deviceId: string;

  private readonly connector: ConnectorInternals;

  private readonly socket: Socket;

  private readonly options: ApiConnectOptions;

  private constructor(connector: ConnectorInternals, socket: Socket, options: ApiConnectOptions) {
    this.connector = connector;
    this.socket = socket;
    this.options = options;
    this.deviceId = options.deviceId;
  }

  /**
   * Connects, checks the TLS peer, and logs in. Throws DEVICE_UNREACHABLE, TLS_FAILED,
   * AUTH_FAILED, CONNECTION_LOST, DEVICE_PROTOCOL_ERROR or CANCELLED.
   */
  static async open(options: ApiConnectOptions): Promise<ApiConnection> {
    applyNodeRouterosFixes();

    const connector = new Connector({
      host: options.host,
      port: options.port,
      timeout: options.idleTimeoutSeconds ?? 10,
      tls: options.tls,
    }) as unknown as ConnectorInternals;
    const logger = options.logger;
    connector.on('error', (error: Error) => {
      logger.debug({ err: error }, 'API socket failed');
    });

    connector.connect();
    const socket = connector.socket;
    if (socket === undefined) {
      throw new AgentError('INTERNAL', 'node-routeros created no socket on connect');
    }

    // Each command waits for its reply, so Nagle's algorithm only delays the next sentence.
    socket.setNoDelay(true);

    const connection = new ApiConnection(connector, socket, options);
    setDroppedReplyListener(socket, (reply, tag) => {
      logger.debug({ reply, tag }, 'API reply for no pending command dropped');
    });

    const startedAt = options.clock.now();
    try {
      await withDeadline(connection.handshake(), {
        clock: options.clock,
        timeoutMs: options.connectTimeoutMs,
        signal: options.signal,
        onTimeout: () => connection.unreachable(),
        onAbort: () => cancelledError(options.signal, `connecting to ${connection.address}`),
      });
      const remainingMs = options.connectTimeoutMs - (options.clock.now() - startedAt);
      await connection.login(Math.max(1, remainingMs));
    } catch (error) {
      connection.close();
      throw error;
    }

    logger.debug({ host: options.host, port: options.port }, 'API session opened');
    return connection;
  }

  /** `host:port` of the device. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** True once the socket is closed; every later command fails with CONNECTION_LOST. */
  get closed(): boolean {
    return this.socket.destroyed;
  }

  /**
   * Runs one command and collects its reply. Rejects with ApiTrapError when the device traps,
   * TIMEOUT once `/cancel` for it was confirmed, CANCELLED once the connection is closed,
   * CONNECTION_LOST when the connection ends, and DEVICE_PROTOCOL_ERROR for a malformed reply.
   */
  async command(words: readonly string[], options: CommandOptions): Promise<ApiReply> {
    const channel = new Channel(
      this.connector as unknown as Connector,
    ) as unknown as ChannelInternals;
    const reply = new Promise<ApiReply>((resolve, reject) => {
      const rows: Array<Record<string, string>> = [];
      channel.on('data', (row: Record<string, string>) => rows.push(row));
      channel.once('done', (_data: unknown, done: Record<string, string>) =>
        resolve({ rows, done }),
      );
      channel.once('trap', (error: ApiTrapError) => reject(error));
      channel.once(CHANNEL_FAILED, (error: AgentError) => reject(error));
    });

    // With returnPromise false the channel reports through events only.
    void channel.write([...words], false, false);
    const name = words[0] ?? '(empty command)';
    let stopped: 'timeout' | 'abort' | undefined;
    try {
      return await withDeadline(reply, {
        clock: this.options.clock,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onTimeout: () => {
          stopped = 'timeout';
          return new AgentError(
            'TIMEOUT',
            `${name} on device ${this.deviceId} (${this.address}) did not finish within ${options.timeoutMs} ms`,
            { details: { command: name, timeoutMs: options.timeoutMs } },
          );
        },
        onAbort: () => {
          stopped = 'abort';
          return cancelledError(options.signal, `${name} on device ${this.deviceId}`);
        },
      });
    } finally {
      if (stopped === 'abort') {
        this.close();
      } else if (stopped === 'timeout') {
        // Replies that still arrive for the tag are dropped by the fixed receiver.
        channel.close(true);
        if (options.cancelOnDevice !== false) {
          await this.cancel(channel.id);
        }
      }
    }
  }

  /**
   * Sends `/cancel` for a command and resolves once the device confirmed it. When the device
   * does not confirm within the command timeout, the connection is closed instead, because
   * RouterOS stops a session's commands when the session ends.
   */
  private async cancel(tag: string): Promise<void> {
    if (this.socket.destroyed) {
      return;
    }

    try {
      await this.command(['/cancel', `=tag=${tag}`], {
        timeoutMs: this.options.commandTimeoutMs,
        cancelOnDevice: false,
      });
    } catch (error) {
      if (!this.socket.destroyed) {
        this.options.logger.warn(
          { err: error, tag },
          'API cancel not confirmed; closing the connection to stop the command',
        );
        this.close();
      }
    }
  }

  /** Closes the connection; safe to call twice. */
  close(): void {
    if (!this.socket.destroyed) {
      this.connector.destroy();
    }
  }

  private handshake(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let socketError: Error | undefined;
      let tcpConnected = false;
      this.socket.on('error', (error) => {
        socketError ??= error;
      });
      this.socket.once('connect', () => {
        tcpConnected = true;
      });
      const onClose = (): void => reject(this.handshakeFailure(tcpConnected, socketError));
      this.socket.once('close', onClose);
      this.connector.once('connected', () => {
        this.socket.removeListener('close', onClose);
        try {
          this.options.verifyPeer?.(this.socket as TLSSocket);
          resolve();
        } catch (error) {
          this.close();
          reject(error);
        }
      });
    });
  }

  private handshakeFailure(tcpConnected: boolean, socketError: Error | undefined): AgentError {
    const recorded = connectionFailure(this.socket);
    if (recorded !== undefined) {
      return recorded;
    }

    const reason = socketError === undefined ? 'the connection closed' : errorMessage(socketError);
    if (tcpConnected && this.options.tls !== undefined) {
      return new AgentError(
        'TLS_FAILED',
        `TLS handshake with device ${this.deviceId} (${this.address}) failed: ${reason}; check tls.mode (anonymous when the router has no certificate) and the API-SSL port`,
        { cause: socketError, details: { host: this.options.host, port: this.options.port } },
      );
    }

    if (tcpConnected) {
      return new AgentError(
        'CONNECTION_LOST',
        `device ${this.deviceId} (${this.address}) closed the API connection before login: ${reason}`,
        { cause: socketError, details: { host: this.options.host, port: this.options.port } },
      );
    }

    return new AgentError(
      'DEVICE_UNREACHABLE',
      `cannot connect to device ${this.deviceId} at ${this.address}: ${reason}; check the host, the port and that the API service is enabled`,
      { cause: socketError, details: { host: this.options.host, port: this.options.port } },
    );
  }

  private unreachable(): AgentError {
    this.close();
    return new AgentError(
      'DEVICE_UNREACHABLE',
      `device ${this.deviceId} at ${this.address} did not answer within ${this.options.connectTimeoutMs} ms; check the host, the port and the device's /ip service address list`,
      { details: { host: this.options.host, port: this.options.port } },
    );
  }

  /**
   * Logs in the way every RouterOS version accepts: name and password first (6.43 and later),
   * and the MD5 challenge response only when the device returns a challenge in `=ret=`.
   */
  private async login(timeoutMs: number): Promise<void> {
    const { username, password } = this.options;
    try {
      const first = await this.loginCommand(
        ['/login', `=name=${username}`, `=password=${password}`],
        timeoutMs,
      );
      const challenge = first.done.ret;
      if (challenge === undefined) {
        return;
      }

      await this.loginCommand(
        ['/login', `=name=${username}`, `=response=00${challengeResponse(password, challenge)}`],
        timeoutMs,
      );
    } catch (error) {
      throw this.loginFailure(error);
    }
  }

  /** A login that times out closes the connection, so there is nothing to cancel. */
  private loginCommand(words: string[], timeoutMs: number): Promise<ApiReply> {
    return this.command(words, { timeoutMs, signal: this.options.signal, cancelOnDevice: false });
  }

  private loginFailure(error: unknown): unknown {
    if (error instanceof ApiTrapError) {
      return new AgentError(
        'AUTH_FAILED',
        `device ${this.deviceId} (${this.address}) rejected the login of user "${this.options.username}": ${error.message}; check the user name and password`,
        { details: { traps: error.traps } },
      );
    }

    if (error instanceof AgentError && error.code === 'TIMEOUT') {
      return this.unreachable();
    }

    return error;
  }
}

/** MD5 over a zero byte, the password bytes and the 16 challenge bytes, as hex. */
function challengeResponse(password: string, challengeHex: string): string {
  const challenge = Buffer.from(challengeHex, 'hex');
  return createHash('md5')
    .update(Buffer.from([0]))
    .update(Buffer.from(password, 'latin1'))
    .update(challenge)
    .digest('hex');
}
