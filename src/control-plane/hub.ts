import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logging.js';
import { AGENT_HUB_PATH, CLOSE_CODES, LIMITS } from '../protocol/limits.js';
import type { SigningKey } from '../protocol/signing.js';
import { AgentSession } from './agent-session.js';
import type { SiteConfig } from './config.js';
import { bearerToken } from './http/auth.js';
import { buildOfferFrame } from './offers.js';
import { siteTokenMatches } from './secrets.js';
import type { DeliveryRepository } from './store/deliveries.js';
import type { ScriptRepository } from './store/scripts.js';

/** Maximum single wait of the delivery timer, so a far launch time is rechecked hourly. */
const MAX_TIMER_DELAY_MS = 60 * 60 * 1000;

export type HubOptions = {
  sites: readonly SiteConfig[];
  scripts: ScriptRepository;
  deliveries: DeliveryRepository;
  signingKey: SigningKey;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number;
  /**
   * How long before a script's launch time its offer goes to agents, in milliseconds. The
   * agent stores the job and starts it at launch time on its own clock, so a link that drops
   * within this lead does not delay the launch.
   */
  deliveryLeadMs: number;
};

/**
 * The agent hub: authenticates agents by site token at the HTTP upgrade, keeps one session per
 * site (a new connection replaces the old one), offers due jobs and sends cancellations.
 */
export class AgentHub {
  private readonly options: HubOptions;

  private readonly server: WebSocketServer;

  private readonly logger: Logger;

  /** Ready sessions by site id; a session enters after `welcome` and leaves on close. */
  private readonly sessions = new Map<string, AgentSession>();

  private deliveryTimer: TimerHandle | undefined;

  /**
   * Per site: when the last warning about a connection of another agent replacing a live one
   * was logged, and how many replacements followed it without a warning.
   */
  private readonly replacementWarnings = new Map<string, { warnedAt: number; since: number }>();

  constructor(options: HubOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'agent-hub' });
    // UTF-8 is checked by the frame decoder, so invalid text gets a FRAME_INVALID reply
    // instead of `ws` closing the connection with 1007.
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: LIMITS.maxPayloadBytes,
      skipUTF8Validation: true,
    });
  }

  /** Site ids with a ready agent connection. */
  connectedSites(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * Handles an HTTP upgrade request. It returns 404 for other paths and 401 for a missing or
   * unknown site token, before any WebSocket handshake.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== AGENT_HUB_PATH) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }

    const token = bearerToken(request.headers);
    const site =
      token === undefined
        ? undefined
        : this.options.sites.find((candidate) => siteTokenMatches(token, candidate.tokenHash));
    if (site === undefined) {
      this.logger.warn({ remoteAddress: request.socket.remoteAddress }, 'agent token rejected');
      rejectUpgrade(socket, 401, 'Unauthorized');
      return;
    }

    this.server.handleUpgrade(request, socket, head, (ws) => {
      new AgentSession(ws, site.id, {
        deliveries: this.options.deliveries,
        clock: this.options.clock,
        logger: this.logger,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        onReady: (session) => this.onReady(session),
        onClose: (session) => this.onClose(session),
      });
    });
  }

  /** Offers every due job to connected agents and sets the timer for the next one. */
  dispatch(): void {
    for (const session of this.sessions.values()) {
      this.offerDue(session);
    }

    this.scheduleNext();
  }

  /** Sends `job_cancel` for a cancelled script to connected sites that hold it. */
  sendCancels(): void {
    for (const session of this.sessions.values()) {
      this.cancelHeld(session);
    }
  }

  close(): void {
    if (this.deliveryTimer !== undefined) {
      this.options.clock.clearTimeout(this.deliveryTimer);
      this.deliveryTimer = undefined;
    }

    for (const session of this.sessions.values()) {
      session.close(CLOSE_CODES.goingAway, 'control plane stopping');
    }

    for (const client of this.server.clients) {
      client.terminate();
    }

    this.server.close();
  }

  private onReady(session: AgentSession): void {
    const previous = this.sessions.get(session.siteId);
    this.sessions.set(session.siteId, session);
    if (previous !== undefined && previous !== session) {
      previous.close(CLOSE_CODES.replaced, 'replaced by a newer connection');
      this.reportReplaced(previous, session);
    }

    this.offerDue(session);
    this.cancelHeld(session);
  }

  /**
   * Logs a live connection replaced by a newer one of the same site. The same outbox id is the
   * same agent reconnecting before its old connection timed out. Another outbox id means a
   * second agent uses the site's token. The two then replace each other on every reconnect, so
   * that warning is rate-limited to once a minute per site and counts the replacements between.
   */
  private reportReplaced(previous: AgentSession, session: AgentSession): void {
    const { siteId } = session;
    if (previous.outboxId === session.outboxId) {
      this.logger.info({ siteId }, 'agent reconnected, replacing its older connection');
      return;
    }

    const now = this.options.clock.now();
    const last = this.replacementWarnings.get(siteId);
    if (last !== undefined && now - last.warnedAt < REPLACEMENT_WARNING_INTERVAL_MS) {
      last.since += 1;
      return;
    }

    this.logger.warn(
      {
        siteId,
        outboxId: session.outboxId,
        replacedOutboxId: previous.outboxId,
        unloggedReplacements: last?.since ?? 0,
      },
      'another agent uses this site token; give each agent its own token',
    );
    this.replacementWarnings.set(siteId, { warnedAt: now, since: 0 });
  }

  private onClose(session: AgentSession): void {
    if (this.sessions.get(session.siteId) === session) {
      this.sessions.delete(session.siteId);
      this.logger.info({ siteId: session.siteId }, 'agent disconnected');
    }
  }

  private offerDue(session: AgentSession): void {
    const { scripts, deliveries, clock, deliveryLeadMs, signingKey } = this.options;
    const now = clock.now();

    for (const delivery of deliveries.due(session.siteId, now, deliveryLeadMs)) {
      const script = scripts.get(delivery.scriptId);
      if (script === undefined) {
        continue;
      }

      const frame = delivery.offerJson ?? buildOfferFrame(script, session.siteId, signingKey);
      deliveries.markOffered(script.id, session.siteId, frame, now);
      session.send(frame);
      this.logger.info({ siteId: session.siteId, jobId: script.id }, 'offered job');
    }
  }

  private cancelHeld(session: AgentSession): void {
    for (const jobId of this.options.deliveries.pendingCancels(session.siteId)) {
      session.send({ type: 'job_cancel', jobId });
      this.logger.info({ siteId: session.siteId, jobId }, 'sent job cancellation');
    }
  }

  private scheduleNext(): void {
    const { clock, deliveries, deliveryLeadMs } = this.options;
    if (this.deliveryTimer !== undefined) {
      clock.clearTimeout(this.deliveryTimer);
      this.deliveryTimer = undefined;
    }

    const now = clock.now();
    const dueAt = deliveries.nextDueAt(now, deliveryLeadMs);
    if (dueAt === undefined) {
      return;
    }

    const delayMs = Math.min(Math.max(0, dueAt - now), MAX_TIMER_DELAY_MS);
    this.deliveryTimer = clock.setTimeout(() => {
      this.deliveryTimer = undefined;
      this.dispatch();
    }, delayMs);
  }
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  );
}

/** Minimum time between two warnings about agents sharing one site's token, in milliseconds. */
const REPLACEMENT_WARNING_INTERVAL_MS = 60_000;
