import WebSocket, { type ClientOptions } from 'ws';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { AgentError, type ErrorCode, isAgentError } from '../errors.js';
import { createSilentLogger, type Logger } from '../logging.js';
import { sendCorked } from '../protocol/corked.js';
import { decodeFrame, encodeFrame, errorFrameFor, type RawMessage } from '../protocol/frames.js';
import { startHeartbeat } from '../protocol/heartbeat.js';
import {
  CLOSE_CODES,
  LIMITS,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '../protocol/limits.js';
import {
  type AgentFrame,
  type ControlPlaneFrame,
  controlPlaneFrameSchema,
  type InventoryDevice,
  type WelcomeFrame,
} from '../protocol/messages.js';
import type { VerificationKey } from '../protocol/signing.js';
import { type BackoffOptions, backoffDelayMs } from './backoff.js';
import { JobHandler } from './job-handler.js';
import { StatusSender } from './status-sender.js';
import { checkUplinkUrl, tlsClientOptions, type UplinkTlsOptions } from './tls.js';
import type {
  JobCancel,
  JobIntake,
  UplinkObserver,
  UplinkOutbox,
  UplinkState,
  UplinkStatus,
} from './types.js';

/** Maximum wait for `welcome` after sending `hello`, in milliseconds. */
const WELCOME_TIMEOUT_MS = 15_000;

/** Time the TCP, TLS and HTTP upgrade handshakes may take together, in milliseconds. */
const HANDSHAKE_TIMEOUT_MS = 15_000;

export type UplinkOptions = UplinkTlsOptions & {
  /** Agent hub URL, e.g. `wss://cp.example.com/agent/v1`. */
  url: string;
  /** The site's agent token, sent as `Authorization: Bearer`. */
  token: string;
  siteId: string;
  agentVersion: string;
  /** Device inventory for `hello`: ids, names, transports and known RouterOS versions. */
  devices: () => InventoryDevice[];
  /** The control plane's pinned job-signing keys. */
  keys: readonly VerificationKey[];
  intake: JobIntake;
  cancel: JobCancel;
  outbox: UplinkOutbox;
  /** Id of the outbox, fixed when the store was created; see `hello.outboxId`. */
  outboxId: string;
  /** Most status events unacknowledged at once. Default and upper bound 256. */
  window?: number;
  backoff?: BackoffOptions;
  /** Callbacks on offers and reconnects, for metrics. */
  observer?: UplinkObserver;
  clock?: Clock;
  logger?: Logger;
};

/**
 * The agent's one outbound link to the control plane. It connects with the site token, sends
 * `hello`, verifies and stores job offers before accepting them, applies cancellations,
 * streams the outbox, detects a dead link with heartbeats and reconnects with jittered
 * exponential back-off until `stop`.
 */
export class UplinkClient {
  private readonly options: UplinkOptions;

  private readonly clock: Clock;

  private readonly logger: Logger;

  private readonly jobs: JobHandler;

  private readonly window: number;

  private status: UplinkStatus = {
    state: 'idle',
    failedAttempts: 0,
    unacknowledged: 0,
    acknowledgedSeq: 0,
  };

  /** The socket of the current attempt; undefined in `backoff`, `idle` and `stopped`. */
  private socket: WebSocket | undefined;

  /** Sender of the current connection, made on `welcome`. */
  private sender: StatusSender | undefined;

  private retryTimer: TimerHandle | undefined;

  private welcomeTimer: TimerHandle | undefined;

  /** Frames of one connection are handled one after another, in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  private tls: ClientOptions | undefined;

  /** Ends the outbox subscription made by `start`. */
  private unsubscribe: (() => void) | undefined;

  /** Sockets whose upgrade got an HTTP error status; their later socket errors are ignored. */
  private readonly rejectedSockets = new WeakSet<WebSocket>();

  /** The hub URL as error messages show it, without a user name or password. */
  private readonly shownUrl: string;

  constructor(options: UplinkOptions) {
    const url = checkUplinkUrl(options.url, options.allowInsecure === true);
    this.shownUrl = `${url.protocol}//${url.host}${url.pathname}`;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? createSilentLogger()).child({ component: 'uplink' });
    this.window = Math.min(
      options.window ?? LIMITS.maxUnacknowledgedStatus,
      LIMITS.maxUnacknowledgedStatus,
    );
    this.jobs = new JobHandler({
      siteId: options.siteId,
      keys: options.keys,
      clock: this.clock,
      logger: this.logger,
      intake: options.intake,
      cancel: options.cancel,
      ...(options.observer === undefined ? {} : { observer: options.observer }),
    });
  }

  /** Returns a snapshot of the link for the status endpoint. */
  getStatus(): UplinkStatus {
    return {
      ...this.status,
      unacknowledged: this.sender?.unacknowledged ?? 0,
      acknowledgedSeq: this.sender?.acknowledgedSeq ?? this.status.acknowledgedSeq,
    };
  }

  /** Starts connecting; resolves once the first attempt began. */
  async start(): Promise<void> {
    if (this.status.state !== 'idle') {
      return;
    }

    const url = new URL(this.options.url);
    this.tls = url.protocol === 'wss:' ? await tlsClientOptions(this.options) : {};
    this.unsubscribe = this.options.outbox.subscribe?.(() => this.notifyOutbox());
    await this.connect();
  }

  /** Tells the uplink the outbox has new events to send. */
  notifyOutbox(): void {
    const sender = this.sender;
    if (sender !== undefined) {
      this.enqueue(() => sender.pump());
    }
  }

  /** Closes the link and stops reconnecting; waits for the frame being handled. */
  async stop(): Promise<void> {
    this.setState('stopped');
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.clearTimers();
    const closing = this.sender?.close();
    this.socket?.close(1000, 'agent stopping');
    this.socket = undefined;
    await this.queue;
    await closing;
  }

  private async connect(): Promise<void> {
    if (this.status.state === 'stopped') {
      return;
    }

    this.setState('connecting');
    const acknowledgedSeq = await this.options.outbox.acknowledgedSeq();
    const socket = new WebSocket(this.options.url, {
      ...this.tls,
      headers: { authorization: `Bearer ${this.options.token}` },
      maxPayload: LIMITS.maxPayloadBytes,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
      // The frame decoder rejects invalid UTF-8 with an error reply instead of a 1007 close.
      skipUTF8Validation: true,
    });
    this.socket = socket;
    this.queue = Promise.resolve();

    socket.on('open', () => this.onOpen(socket, acknowledgedSeq));
    const touch = (): void => {
      this.status.lastContactAt = this.clock.now();
    };
    socket.on('ping', touch);
    socket.on('pong', touch);
    socket.on('message', (data: RawMessage, isBinary: boolean) => {
      touch();
      this.enqueue(() => this.onMessage(socket, data, isBinary));
    });
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      if (status === 401 || status === 403) {
        this.recordError(
          'UPLINK_AUTH_FAILED',
          `Control plane at ${this.shownUrl} rejected the site token with HTTP ${status}; check that controlPlane.tokenFile or tokenCredential holds the token of site ${this.options.siteId}`,
        );
      } else {
        const next =
          status === 404 ? 'check the path of controlPlane.url' : 'check controlPlane.url';
        this.recordError(
          'UPLINK_UNAVAILABLE',
          `Control plane at ${this.shownUrl} rejected the WebSocket upgrade with HTTP ${status}; ${next}`,
        );
      }

      this.rejectedSockets.add(socket);
      socket.terminate();
    });
    socket.on('error', (error) => this.onSocketError(socket, error));
    socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString()));
  }

  private onOpen(socket: WebSocket, acknowledgedSeq: number): void {
    this.send(socket, {
      type: 'hello',
      protocols: [...SUPPORTED_PROTOCOL_VERSIONS],
      agentVersion: this.options.agentVersion,
      siteId: this.options.siteId,
      devices: this.options.devices(),
      outboxId: this.options.outboxId,
      acknowledgedSeq,
    });
    this.welcomeTimer = this.clock.setTimeout(() => {
      this.recordError(
        'UPLINK_UNAVAILABLE',
        'Control plane sent no welcome within 15 s of hello; retrying',
      );
      socket.terminate();
    }, WELCOME_TIMEOUT_MS);
  }

  private async onMessage(socket: WebSocket, data: RawMessage, isBinary: boolean): Promise<void> {
    let frame: ControlPlaneFrame;
    try {
      frame = decodeFrame(data, isBinary, controlPlaneFrameSchema);
    } catch (error) {
      this.logger.warn({ err: error }, 'invalid frame from control plane');
      this.send(socket, errorFrameFor(error));
      return;
    }

    try {
      await this.handle(socket, frame);
    } catch (error) {
      this.logger.error({ err: error, type: frame.type }, 'failed to handle control-plane frame');
      this.send(socket, errorFrameFor(error, { inReplyTo: frame.type }));
    }
  }

  private async handle(socket: WebSocket, frame: ControlPlaneFrame): Promise<void> {
    if (frame.type !== 'welcome' && frame.type !== 'error' && this.sender === undefined) {
      throw new AgentError('FRAME_INVALID', `Received ${frame.type} before welcome`);
    }

    switch (frame.type) {
      case 'welcome':
        await this.onWelcome(socket, frame);
        return;
      case 'job_offer':
        this.send(socket, await this.jobs.onOffer(frame.job));
        return;
      case 'job_cancel': {
        const reply = await this.jobs.onCancel(frame.jobId);
        if (reply !== undefined) {
          this.send(socket, reply);
        }

        return;
      }
      case 'status_ack':
        await this.sender?.onAck(frame.seq);
        return;
      case 'error':
        this.logger.warn(
          { code: frame.code, message: frame.message },
          'control plane reported error',
        );
        return;
    }
  }

  private async onWelcome(socket: WebSocket, welcome: WelcomeFrame): Promise<void> {
    if (this.sender !== undefined) {
      throw new AgentError('FRAME_INVALID', 'welcome was already received on this connection');
    }

    if (welcome.protocol !== PROTOCOL_VERSION || welcome.siteId !== this.options.siteId) {
      this.recordError(
        'PROTOCOL_VERSION_UNSUPPORTED',
        `Control plane chose protocol ${welcome.protocol} for site ${welcome.siteId}`,
      );
      socket.close(1002, 'unexpected welcome');
      return;
    }

    this.clearWelcomeTimer();
    const now = this.clock.now();
    this.status = { ...this.status, state: 'connected', connectedSince: now, failedAttempts: 0 };
    delete this.status.nextAttemptAt;
    delete this.status.lastError;
    this.logger.info({ lastSeq: welcome.lastSeq }, 'connected to control plane');

    startHeartbeat(socket, {
      clock: this.clock,
      intervalMs: welcome.heartbeatIntervalMs,
      timeoutMs: welcome.heartbeatIntervalMs,
      onTimeout: () => {
        this.recordError('UPLINK_UNAVAILABLE', 'Control plane missed the heartbeat deadline');
        socket.terminate();
      },
    });

    this.sender = new StatusSender({
      outbox: this.options.outbox,
      send: (frames) => this.sendAll(socket, frames),
      window: Math.min(this.window, welcome.maxUnacknowledgedStatus),
      logger: this.logger,
      acknowledgedSeq: await this.options.outbox.acknowledgedSeq(),
    });
    await this.sender.resume(welcome.lastSeq);
  }

  private onSocketError(socket: WebSocket, error: Error): void {
    // Closing after an HTTP rejection makes `ws` emit a generic error that would hide the
    // rejection's code.
    if (this.rejectedSockets.has(socket)) {
      return;
    }

    if (isAgentError(error)) {
      this.recordError(error.code, error.message);
      return;
    }

    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = error.message.trim();
    if (code.startsWith('ERR_TLS') || /CERT|SSL|self[- ]signed/i.test(`${code} ${reason}`)) {
      this.recordError(
        'UPLINK_TLS_FAILED',
        `TLS with the control plane at ${this.shownUrl} failed: ${reason}; check controlPlane.caFile or fingerprint, and that the port serves wss://`,
      );
      return;
    }

    this.recordError(
      'UPLINK_UNAVAILABLE',
      `Cannot reach the control plane at ${this.shownUrl}: ${reason}; check controlPlane.url and that the control plane is running`,
    );
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) {
      return;
    }

    this.clearWelcomeTimer();
    void this.sender?.close();
    if (this.sender !== undefined) {
      this.status.acknowledgedSeq = this.sender.acknowledgedSeq;
    }

    this.sender = undefined;
    this.socket = undefined;
    delete this.status.connectedSince;
    if (this.status.state === 'stopped') {
      return;
    }

    if (code === CLOSE_CODES.replaced) {
      // The control plane keeps one connection per site token, so a newer one took this one's
      // place: this agent reconnected, or another agent runs with the same token.
      this.logger.warn(
        { code, reason, siteId: this.options.siteId },
        'control plane replaced this connection; check that no other agent uses this site token',
      );
    } else {
      this.logger.warn(
        { code, reason, lastError: this.status.lastError },
        'control-plane link closed',
      );
    }

    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const delayMs = backoffDelayMs(this.status.failedAttempts, this.options.backoff);
    this.status.failedAttempts += 1;
    this.status.nextAttemptAt = this.clock.now() + delayMs;
    this.setState('backoff');
    this.logger.info({ delayMs, attempt: this.status.failedAttempts }, 'reconnecting after delay');
    this.options.observer?.reconnecting?.(delayMs);

    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.logger.error({ err: error }, 'reconnect failed');
        this.recordError('UPLINK_UNAVAILABLE', String(error));
        this.scheduleRetry();
      });
    }, delayMs);
  }

  /** Sends frames in one write to the socket. */
  private sendAll(socket: WebSocket, frames: readonly AgentFrame[]): void {
    sendCorked(socket, () => {
      for (const frame of frames) {
        this.send(socket, frame);
      }
    });
  }

  private send(socket: WebSocket, frame: AgentFrame): void {
    if (socket.readyState !== WebSocket.OPEN) {
      return;
    }

    socket.send(encodeFrame(frame));
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.logger.error({ err: error }, 'uplink task failed');
    });
  }

  private setState(state: UplinkState): void {
    this.status.state = state;
  }

  private recordError(code: ErrorCode, message: string): void {
    this.status.lastError = { code, message };
  }

  private clearWelcomeTimer(): void {
    if (this.welcomeTimer !== undefined) {
      this.clock.clearTimeout(this.welcomeTimer);
      this.welcomeTimer = undefined;
    }
  }

  private clearTimers(): void {
    this.clearWelcomeTimer();
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }
}
