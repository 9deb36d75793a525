import type WebSocket from 'ws';
import type { Clock, TimerHandle } from '../clock.js';
import { AgentError } from '../errors.js';
import { decideVerdict } from '../jobs/types.js';
import type { Logger } from '../logging.js';
import { sendCorked } from '../protocol/corked.js';
import { decodeFrame, encodeFrame, errorFrameFor, type RawMessage } from '../protocol/frames.js';
import { startHeartbeat } from '../protocol/heartbeat.js';
import { CLOSE_CODES, LIMITS, SUPPORTED_PROTOCOL_VERSIONS } from '../protocol/limits.js';
import {
  type AgentFrame,
  agentFrameSchema,
  type ControlPlaneFrame,
  type HelloFrame,
  type StatusFrame,
} from '../protocol/messages.js';
import type { DeliveryRepository, RecordOutcome } from './store/deliveries.js';

/** The sequenced frames that carry the agent's outbox events. */
const STATUS_FRAME_TYPES: ReadonlySet<AgentFrame['type']> = new Set([
  'job_stored',
  'job_launched',
  'run_status',
  'job_verdict',
]);

/** Time an agent has after the upgrade to send `hello`, in milliseconds. */
const HELLO_TIMEOUT_MS = 10_000;

export type SessionContext = {
  deliveries: DeliveryRepository;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number;
  /** Called once the agent's `hello` is accepted and `welcome` sent. */
  onReady: (session: AgentSession) => void;
  onClose: (session: AgentSession) => void;
};

/** One agent's connection to the hub, authenticated for one site by its token. */
export class AgentSession {
  readonly siteId: string;

  /** Outbox id from the agent's `hello`; undefined until the session is ready. */
  outboxId: string | undefined;

  private readonly socket: WebSocket;

  private readonly context: SessionContext;

  private readonly logger: Logger;

  /** Set once `hello` was accepted; every other frame before it closes the connection. */
  private ready = false;

  private helloTimer: TimerHandle | undefined;

  /**
   * Status events received and not yet recorded, in arrival order. They are recorded together
   * in one transaction at the end of the current turn of the event loop, or before any other
   * frame is handled, so frames still take effect in the order they arrived.
   */
  private pendingStatus: StatusFrame[] = [];

  constructor(socket: WebSocket, siteId: string, context: SessionContext) {
    this.socket = socket;
    this.siteId = siteId;
    this.context = context;
    this.logger = context.logger.child({ siteId });

    this.helloTimer = context.clock.setTimeout(() => {
      this.close(CLOSE_CODES.helloInvalid, 'no hello received');
    }, HELLO_TIMEOUT_MS);

    socket.on('message', (data: RawMessage, isBinary: boolean) => {
      this.onMessage(data, isBinary);
    });
    socket.on('close', () => {
      this.clearHelloTimer();
      this.recordPendingStatus();
      context.onClose(this);
    });
    socket.on('error', (error) => {
      this.logger.warn({ err: error }, 'agent socket error');
    });
  }

  /** Sends a frame, or pre-encoded frame text, when the socket is open. */
  send(frame: ControlPlaneFrame | string): void {
    if (this.socket.readyState !== this.socket.OPEN) {
      return;
    }

    this.socket.send(typeof frame === 'string' ? frame : encodeFrame(frame));
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== undefined) {
      this.context.clock.clearTimeout(this.helloTimer);
      this.helloTimer = undefined;
    }
  }

  private onMessage(data: RawMessage, isBinary: boolean): void {
    let frame: AgentFrame;
    try {
      frame = decodeFrame(data, isBinary, agentFrameSchema);
    } catch (error) {
      this.logger.debug({ err: error }, 'invalid frame from agent');
      this.send(errorFrameFor(error));
      if (!this.ready) {
        this.close(CLOSE_CODES.helloInvalid, 'first frame must be hello');
      }

      return;
    }

    try {
      this.handle(frame);
    } catch (error) {
      this.logger.error({ err: error, type: frame.type }, 'failed to handle agent frame');
      this.send(errorFrameFor(error, { inReplyTo: frame.type }));
    }
  }

  private handle(frame: AgentFrame): void {
    if (!STATUS_FRAME_TYPES.has(frame.type)) {
      this.recordPendingStatus();
    }

    if (!this.ready && frame.type !== 'hello') {
      this.send(errorFrameFor(notReady(frame.type)));
      this.close(CLOSE_CODES.helloInvalid, 'first frame must be hello');
      return;
    }

    switch (frame.type) {
      case 'hello':
        this.onHello(frame);
        return;
      case 'job_accepted':
        this.onAccepted(frame.jobId);
        return;
      case 'job_rejected':
        this.logger.warn({ jobId: frame.jobId, code: frame.code }, 'agent rejected job');
        if (
          !this.context.deliveries.markRejected(frame.jobId, this.siteId, frame.code, frame.message)
        ) {
          this.send(errorFrameFor(jobNotOffered(frame.jobId), { inReplyTo: frame.type }));
        }

        return;
      case 'job_stored':
      case 'job_launched':
      case 'run_status':
      case 'job_verdict':
        this.onStatus(frame);
        return;
      case 'error':
        this.logger.warn({ code: frame.code, message: frame.message }, 'agent reported error');
        return;
    }
  }

  private onHello(hello: HelloFrame): void {
    if (this.ready) {
      this.send(errorFrameFor(new AgentError('FRAME_INVALID', 'hello was already received')));
      return;
    }

    this.clearHelloTimer();
    if (hello.siteId !== this.siteId) {
      this.send(
        errorFrameFor(
          new AgentError('FORBIDDEN', `Token belongs to site ${this.siteId}, not ${hello.siteId}`),
          { inReplyTo: 'hello' },
        ),
      );
      this.close(CLOSE_CODES.helloInvalid, 'site does not match token');
      return;
    }

    const protocol = Math.max(
      ...hello.protocols.filter((v) => SUPPORTED_PROTOCOL_VERSIONS.includes(v)),
    );
    if (!Number.isFinite(protocol)) {
      this.send(
        errorFrameFor(
          new AgentError(
            'PROTOCOL_VERSION_UNSUPPORTED',
            `None of the protocol versions ${hello.protocols.join(', ')} is supported; this control plane speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
          ),
          { inReplyTo: 'hello' },
        ),
      );
      this.close(CLOSE_CODES.versionUnsupported, 'protocol version unsupported');
      return;
    }

    this.welcome(hello, protocol);
  }

  private welcome(hello: HelloFrame, protocol: number): void {
    const { deliveries, clock, heartbeatIntervalMs } = this.context;
    const lastSeq = deliveries.openOutbox(this.siteId, hello.outboxId, clock.now());

    this.ready = true;
    this.outboxId = hello.outboxId;
    this.send({
      type: 'welcome',
      protocol,
      siteId: this.siteId,
      lastSeq,
      heartbeatIntervalMs,
      maxUnacknowledgedStatus: LIMITS.maxUnacknowledgedStatus,
    });
    this.logger.info(
      {
        agentVersion: hello.agentVersion,
        devices: hello.devices.length,
        lastSeq,
        acknowledgedSeq: hello.acknowledgedSeq,
      },
      'agent connected',
    );

    startHeartbeat(this.socket, {
      clock,
      intervalMs: heartbeatIntervalMs,
      timeoutMs: heartbeatIntervalMs,
      onTimeout: () => {
        this.logger.warn('agent missed heartbeat, closing its connection');
        this.socket.terminate();
      },
    });
    this.context.onReady(this);
  }

  private onAccepted(jobId: string): void {
    if (this.context.deliveries.markAccepted(jobId, this.siteId, this.context.clock.now())) {
      this.logger.info({ jobId }, 'agent accepted job');
      return;
    }

    this.send(errorFrameFor(jobNotOffered(jobId), { inReplyTo: 'job_accepted' }));
  }

  /** Queues a status event; `recordPendingStatus` records and acknowledges it. */
  private onStatus(frame: StatusFrame): void {
    this.pendingStatus.push(frame);
    if (this.pendingStatus.length === 1) {
      setImmediate(() => this.recordPendingStatus());
    }
  }

  /**
   * Records the queued status events in one transaction, so a burst of events costs one WAL
   * sync instead of one each, and then acknowledges each. Frames arrive in order on one socket
   * and the agent sends its outbox in sequence order, so acknowledging a recorded sequence
   * number acknowledges every lower one too.
   */
  private recordPendingStatus(): void {
    const frames = this.pendingStatus;
    if (frames.length === 0) {
      return;
    }

    this.pendingStatus = [];
    let outcomes: RecordOutcome[];
    try {
      outcomes = this.context.deliveries.recordAll(this.siteId, frames, this.context.clock.now());
    } catch (error) {
      this.logger.error({ err: error, events: frames.length }, 'failed to record status events');
      for (const frame of frames) {
        this.send(errorFrameFor(error, { inReplyTo: frame.type, seq: frame.seq }));
      }

      return;
    }

    frames.forEach((frame, index) => {
      if (frame.type === 'job_verdict' && outcomes[index] === 'recorded') {
        this.checkVerdict(frame);
      }
    });
    sendCorked(this.socket, () => {
      frames.forEach((frame, index) => {
        const outcome = outcomes[index];
        if (outcome === 'unknown-job' || outcome === 'unknown-device') {
          this.rejectStatus(frame, outcome);
        }

        this.send({ type: 'status_ack', seq: frame.seq });
      });
    });
  }

  /**
   * Sends an `error` frame for a status event that cannot be recorded. The caller still
   * acknowledges the event, because it will never be accepted and resending it would block the
   * agent's outbox.
   */
  private rejectStatus(frame: StatusFrame, outcome: 'unknown-job' | 'unknown-device'): void {
    const reply = { inReplyTo: frame.type, seq: frame.seq };
    if (frame.type === 'run_status' && outcome === 'unknown-device') {
      const { jobId, deviceId } = frame.run;
      this.logger.warn({ jobId, deviceId, seq: frame.seq }, 'run status for a device not launched');
      this.send(errorFrameFor(deviceNotLaunched(jobId, deviceId), reply));
      return;
    }

    const jobId = frame.type === 'run_status' ? frame.run.jobId : frame.jobId;
    this.logger.warn({ jobId, seq: frame.seq }, 'status for a job not delivered to this site');
    this.send(errorFrameFor(jobNotOffered(jobId), reply));
  }

  /**
   * Logs a warning when an agent's verdict contradicts the recorded runs. The runs decide the
   * site's verdict. Such a verdict usually means the agent lost or replaced its store.
   */
  private checkVerdict(frame: Extract<StatusFrame, { type: 'job_verdict' }>): void {
    const { deliveries } = this.context;
    const runs = deliveries.results(frame.jobId, this.siteId);
    const runsVerdict = decideVerdict(runs.map((run) => run.state));
    if (runsVerdict === frame.verdict) {
      return;
    }

    this.logger.warn(
      {
        jobId: frame.jobId,
        seq: frame.seq,
        agentVerdict: frame.verdict,
        runsVerdict,
        recordedVerdict: deliveries.get(frame.jobId, this.siteId)?.agentVerdict ?? null,
      },
      'agent verdict contradicts the recorded runs',
    );
  }
}

function notReady(type: string): AgentError {
  return new AgentError('FRAME_INVALID', `Received ${type} before hello; send hello first`);
}

function jobNotOffered(jobId: string): AgentError {
  return new AgentError('JOB_NOT_FOUND', `Job ${jobId} was not offered to this site`, {
    details: { jobId },
  });
}

function deviceNotLaunched(jobId: string, deviceId: string): AgentError {
  return new AgentError(
    'DEVICE_NOT_FOUND',
    `Job ${jobId} was not launched on device ${deviceId}; report runs only for the devices of job_launched`,
    { details: { jobId, deviceId } },
  );
}
