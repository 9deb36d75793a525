import { AgentError } from '../errors.js';
import type { Run } from '../jobs/types.js';
import type { Logger } from '../logging.js';
import { LIMITS } from '../protocol/limits.js';
import type { RunReport, StatusFrame } from '../protocol/messages.js';
import type { OutboxEntry } from '../store/types.js';
import type { UplinkOutbox } from './types.js';

/**
 * Streams the outbox over one connection: sends events in sequence order from the first one
 * the control plane does not hold, keeps at most `window` events unacknowledged, and marks
 * events acknowledged as cumulative `status_ack` frames arrive. A new sender is made for every
 * connection, so after a reconnect sending starts again from the first unacknowledged event.
 */
export class StatusSender {
  private readonly outbox: UplinkOutbox;

  /** Sends frames in order; the caller writes them to the socket together. */
  private readonly send: (frames: readonly StatusFrame[]) => void;

  private readonly window: number;

  private readonly logger: Logger;

  /** Sequence numbers sent on this connection and not yet acknowledged, ascending. */
  private inFlight: number[] = [];

  /** Highest sequence number sent or known to be held by the control plane. */
  private cursor: number;

  /** Highest sequence number acknowledged; `scheduleAfterAcks` stores it in the outbox. */
  private acknowledged: number;

  /** Settles once the step `scheduleAfterAcks` queued has run; undefined while none is queued. */
  private afterAcks: Promise<void> | undefined;

  /** True while a pump reads the outbox, so concurrent pumps do not send an event twice. */
  private pumping = false;

  /** Set when a pump was requested while one ran; the running pump then loops once more. */
  private pumpAgain = false;

  private closed = false;

  constructor(options: {
    outbox: UplinkOutbox;
    send: (frames: readonly StatusFrame[]) => void;
    window: number;
    logger: Logger;
    acknowledgedSeq: number;
  }) {
    this.outbox = options.outbox;
    this.send = options.send;
    this.window = options.window;
    this.logger = options.logger;
    this.acknowledged = options.acknowledgedSeq;
    this.cursor = options.acknowledgedSeq;
  }

  get unacknowledged(): number {
    return this.inFlight.length;
  }

  get acknowledgedSeq(): number {
    return this.acknowledged;
  }

  /**
   * Stops sending; acknowledgements that still arrive are ignored. Resolves once the last
   * acknowledgement received is stored.
   */
  close(): Promise<void> {
    this.closed = true;
    return this.afterAcks ?? Promise.resolve();
  }

  /**
   * Applies the control plane's `welcome.lastSeq`: events up to it are recorded there, so they
   * count as acknowledged and sending resumes after them.
   */
  async resume(lastSeqHeld: number): Promise<void> {
    if (lastSeqHeld > this.acknowledged) {
      await this.acknowledge(lastSeqHeld);
    }

    this.cursor = Math.max(this.cursor, this.acknowledged);
    await this.pump();
  }

  /**
   * Handles a cumulative `status_ack`: frees the window at once. The acknowledgement is stored,
   * and the freed window filled, once for all acknowledgements of the same turn of the event
   * loop.
   */
  async onAck(seq: number): Promise<void> {
    if (this.closed || seq <= this.acknowledged) {
      return;
    }

    if (seq > this.cursor) {
      throw new AgentError(
        'FRAME_INVALID',
        `status_ack for sequence ${seq} is beyond the last sent sequence ${this.cursor}`,
        { details: { seq } },
      );
    }

    // `seq` is at most the last number sent, so the outbox contains it and stores it uncapped.
    this.acknowledged = seq;
    this.inFlight = this.inFlight.filter((sent) => sent > seq);
    this.scheduleAfterAcks();
  }

  /** Sends outbox events while the window has room. Safe to call at any time. */
  async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }

    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.sendBatch();
      } while (this.pumpAgain && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private async sendBatch(): Promise<void> {
    while (!this.closed && this.inFlight.length < this.window) {
      const events = await this.outbox.read(this.cursor, this.window - this.inFlight.length);
      if (events.length === 0 || this.closed) {
        return;
      }

      this.send(events.map(toFrame));
      for (const event of events) {
        this.inFlight.push(event.seq);
        this.cursor = event.seq;
      }
    }
  }

  /**
   * Stores the highest acknowledgement and fills the window once per turn of the event loop
   * instead of once per frame. The control plane acknowledges every event: storing each would
   * cost a WAL sync, and reading one event at a time costs several times more per event than
   * reading the whole freed window. An acknowledgement lost in a crash only makes the agent send
   * those events again, and the control plane records a resent event once.
   */
  private scheduleAfterAcks(): void {
    this.afterAcks ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.afterAcks = undefined;
      const seq = this.acknowledged;
      // Sending first keeps the control plane busy while the acknowledgement waits for its sync.
      try {
        await this.pump();
      } catch (error) {
        this.logger.error(
          { err: error },
          'reading the outbox failed; sending resumes with the next acknowledgement or event',
        );
      }

      try {
        await this.outbox.acknowledge(seq);
        this.logger.debug({ seq }, 'status acknowledged');
      } catch (error) {
        this.logger.error(
          { err: error, seq },
          'status acknowledgement not stored; the events are sent again after a reconnect',
        );
      }
    });
  }

  private async acknowledge(seq: number): Promise<void> {
    await this.outbox.acknowledge(seq);
    // The outbox caps an acknowledgement at its last event, and that cap is the truth: events
    // written later must still be sent even if the control plane claimed a higher number.
    this.acknowledged = await this.outbox.acknowledgedSeq();
    if (this.acknowledged < seq) {
      this.logger.warn(
        { seq, acknowledgedSeq: this.acknowledged },
        'control plane acknowledged events this outbox never wrote',
      );
    }

    this.inFlight = this.inFlight.filter((sent) => sent > this.acknowledged);
    this.logger.debug({ seq }, 'status acknowledged');
  }
}

/** Builds the frame of an outbox entry, cutting an overlong output to its head and tail. */
export function toFrame(entry: OutboxEntry): StatusFrame {
  const { seq, event } = entry;
  switch (event.type) {
    case 'job.accepted':
      return {
        type: 'job_stored',
        seq,
        jobId: event.jobId,
        receivedAt: event.receivedAt,
        targets: event.targets === 'all' ? 'all' : [...event.targets],
      };
    case 'job.launched':
      return {
        type: 'job_launched',
        seq,
        jobId: event.jobId,
        launchedAt: event.launchedAt,
        deviceIds: [...event.deviceIds],
      };
    case 'run.updated':
      return { type: 'run_status', seq, run: fitOutput(event.run) };
    case 'job.verdict':
      return {
        type: 'job_verdict',
        seq,
        jobId: event.jobId,
        verdict: event.verdict,
        decidedAt: event.decidedAt,
      };
  }
}

function fitOutput(run: Run): RunReport {
  if (run.output === undefined) {
    return run;
  }

  const bytes = Buffer.from(run.output, 'utf8');
  if (bytes.length <= LIMITS.maxOutputBytes) {
    return run;
  }

  const half = Math.floor(LIMITS.maxOutputBytes / 2) - 64;
  const marker = `\n... ${bytes.length - 2 * half} bytes omitted ...\n`;
  // Cutting inside a multi-byte character leaves U+FFFD at the seam, which is acceptable here.
  const output = `${bytes.subarray(0, half).toString('utf8')}${marker}${bytes.subarray(bytes.length - half).toString('utf8')}`;
  return { ...run, output, outputTruncated: true };
}
