import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../clock.js';
import { AgentError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { AgentHub } from '../hub.js';
import { scriptProgress, siteVerdict } from '../progress.js';
import type { DeliveryRepository } from '../store/deliveries.js';
import type { ScriptRepository } from '../store/scripts.js';
import type { Delivery, DeviceResult, ScheduledScript } from '../types.js';
import {
  bearerToken,
  type Principal,
  requireScope,
  type Scope,
  type TokenSettings,
  verifyApiToken,
} from './auth.js';
import { readJsonBody, sendError, sendJson } from './respond.js';
import { parseScriptBody, scriptResource } from './script-resource.js';

export type ScriptsApiOptions = {
  scripts: ScriptRepository;
  deliveries: DeliveryRepository;
  hub: AgentHub;
  clock: Clock;
  logger: Logger;
  tokens: TokenSettings;
  docsUrl: string;
  deliveryLeadMs: number;
  defaultExpiryMs: number;
};

type Handler = (request: IncomingMessage, principal: Principal, ids: string[]) => Promise<unknown>;

type Route = { method: string; pattern: RegExp; scope: Scope; handler: Handler; status?: number };

const UUID = '([0-9a-fA-F-]{36})';

/** The Scripts API under `/scripts/scheduled`, with JWT bearer authentication and scopes. */
export class ScriptsApi {
  private readonly options: ScriptsApiOptions;

  private readonly routes: readonly Route[];

  constructor(options: ScriptsApiOptions) {
    this.options = options;
    const base = '^/scripts/scheduled';
    this.routes = [
      {
        method: 'GET',
        pattern: new RegExp(`${base}$`),
        scope: 'script:view',
        handler: () => this.list(),
      },
      {
        method: 'POST',
        pattern: new RegExp(`${base}$`),
        scope: 'script:create',
        status: 201,
        handler: (req, who) => this.create(req, who),
      },
      {
        method: 'GET',
        pattern: new RegExp(`${base}/${UUID}$`),
        scope: 'script:view',
        handler: (_, __, [id]) => this.read(id),
      },
      {
        method: 'PUT',
        pattern: new RegExp(`${base}/${UUID}$`),
        scope: 'script:update',
        handler: (req, _, [id]) => this.update(req, id),
      },
      {
        method: 'DELETE',
        pattern: new RegExp(`${base}/${UUID}$`),
        scope: 'script:delete',
        handler: (_, __, [id]) => this.cancel(id),
      },
      {
        method: 'POST',
        pattern: new RegExp(`${base}/${UUID}/authorize$`),
        scope: 'script:authorize',
        handler: (_, who, [id]) => this.authorize(id, who),
      },
      {
        method: 'POST',
        pattern: new RegExp(`${base}/${UUID}/launch$`),
        scope: 'script:run',
        handler: (_, __, [id]) => this.launchNow(id),
      },
      {
        method: 'GET',
        pattern: new RegExp(`${base}/${UUID}/progress$`),
        scope: 'script:view',
        handler: (_, __, [id]) => this.progress(id),
      },
      {
        method: 'GET',
        pattern: new RegExp(`${base}/${UUID}/sites/${UUID}$`),
        scope: 'script:view',
        handler: (_, __, [id, siteId]) => this.siteDetail(id, siteId),
      },
    ];
  }

  /** Handles a request; returns false when the path is not part of this API. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith('/scripts/scheduled')) {
      return false;
    }

    try {
      const principal = await verifyApiToken(
        bearerToken(request.headers),
        this.options.tokens,
        this.options.clock.now(),
      );
      const { route, ids } = this.match(request.method ?? 'GET', path);
      requireScope(principal, route.scope);
      const body = await route.handler(request, principal, ids);
      sendJson(response, route.status ?? 200, body);
    } catch (error) {
      if (!(error instanceof AgentError)) {
        this.options.logger.error({ err: error, path }, 'scripts API request failed');
      }

      sendError(response, error, this.options.docsUrl);
    }

    return true;
  }

  private match(method: string, path: string): { route: Route; ids: string[] } {
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (match === null) {
        continue;
      }

      pathMatched = true;
      if (route.method === method) {
        return { route, ids: match.slice(1).map((id) => id.toLowerCase()) };
      }
    }

    if (pathMatched) {
      throw new AgentError('REQUEST_INVALID', `Method ${method} is not allowed on ${path}`);
    }

    throw new AgentError('NOT_FOUND', `No resource at ${path}; check the path and the id format`);
  }

  private async list(): Promise<unknown> {
    const now = this.options.clock.now();
    return { data: this.options.scripts.list().map((script) => scriptResource(script, now)) };
  }

  private async create(request: IncomingMessage, principal: Principal): Promise<unknown> {
    const now = this.options.clock.now();
    const draft = parseScriptBody(await readJsonBody(request), this.draftDefaults(now));
    const script = this.options.scripts.insert(randomUUID(), draft, principal.subject, now);
    this.options.logger.info({ jobId: script.id, by: principal.subject }, 'script created');
    return scriptResource(script, now);
  }

  private async read(id = ''): Promise<unknown> {
    return scriptResource(this.require(id), this.options.clock.now());
  }

  private async update(request: IncomingMessage, id = ''): Promise<unknown> {
    const now = this.options.clock.now();
    const script = this.require(id);
    const draft = parseScriptBody(await readJsonBody(request), this.draftDefaults(now));
    this.requireEditable(script, now);
    const updated = this.options.scripts.update(id, draft, now);
    this.options.logger.info({ jobId: id }, 'script updated and reset to unauthorized');
    return scriptResource(updated, now);
  }

  private async cancel(id = ''): Promise<unknown> {
    const now = this.options.clock.now();
    const script = this.require(id);
    const cancelled = script.status === 'cancelled' ? script : this.options.scripts.cancel(id, now);
    this.options.hub.sendCancels();
    this.options.logger.info({ jobId: id }, 'script cancelled');
    return scriptResource(cancelled, now);
  }

  private async authorize(id: string | undefined, principal: Principal): Promise<unknown> {
    const now = this.options.clock.now();
    const script = this.require(id ?? '');
    if (script.status === 'cancelled') {
      throw new AgentError('CONFLICT', `Script ${script.id} is cancelled and cannot be authorized`);
    }

    if (script.status === 'authorized') {
      return scriptResource(script, now);
    }

    const authorized = this.options.scripts.authorize(script.id, principal.subject, now);
    this.options.logger.info({ jobId: script.id, by: principal.subject }, 'script authorized');
    this.options.hub.dispatch();
    return scriptResource(authorized, now);
  }

  /** Launches an authorized script now instead of at its launch time. */
  private async launchNow(id = ''): Promise<unknown> {
    const now = this.options.clock.now();
    const script = this.require(id);
    if (script.status !== 'authorized') {
      throw new AgentError(
        'CONFLICT',
        `Script ${id} is ${script.status}; only an authorized script can be launched`,
      );
    }

    if (script.launchAt <= now) {
      throw new AgentError(
        'CONFLICT',
        `Script ${id} has already launched; create a new script to run it again`,
        { details: { id } },
      );
    }

    if (this.isOffered(script)) {
      // The signed offer carries launch_at, and agents reject a changed job under the same id.
      throw new AgentError(
        'CONFLICT',
        `Script ${id} was already offered to a site and launches at its launch_at, ${iso(script.launchAt)}; to launch a script at once, create it with a launch_at more than delivery.leadSeconds ahead, then authorize and launch it`,
        { details: { id } },
      );
    }

    const launched = this.options.scripts.setLaunchAt(id, now, now);
    this.options.logger.info({ jobId: id }, 'script launched now');
    this.options.hub.dispatch();
    return scriptResource(launched, now);
  }

  private async progress(id = ''): Promise<unknown> {
    const script = this.require(id);
    const { deliveries, clock } = this.options;
    return scriptProgress(
      script,
      deliveries.list(script.id),
      (siteId) => deliveries.results(script.id, siteId),
      clock.now(),
    );
  }

  private async siteDetail(id = '', siteId = ''): Promise<unknown> {
    const script = this.require(id);
    if (!script.sites.includes(siteId)) {
      throw new AgentError('NOT_FOUND', `Script ${id} does not target site ${siteId}`);
    }

    const { deliveries, clock } = this.options;
    const delivery = deliveries.get(id, siteId);
    const results = deliveries.results(id, siteId);
    return {
      script_id: id,
      site_id: siteId,
      verdict: siteVerdict(script, delivery, results, clock.now()),
      delivery: delivery === undefined ? null : deliveryResource(delivery),
      devices: results.map(deviceResource),
    };
  }

  private require(id: string): ScheduledScript {
    const script = this.options.scripts.get(id);
    if (script === undefined) {
      throw new AgentError('NOT_FOUND', `Scheduled script ${id} was not found`, {
        details: { id },
      });
    }

    return script;
  }

  /** Rejects edits once the script is cancelled or an agent may already hold its offer. */
  private requireEditable(script: ScheduledScript, now: number): void {
    if (script.status === 'cancelled') {
      throw new AgentError('CONFLICT', `Script ${script.id} is cancelled; create a new one`);
    }

    if (script.status === 'authorized' && script.launchAt <= now) {
      throw new AgentError(
        'CONFLICT',
        `Script ${script.id} has already launched; delete it and create a new one`,
      );
    }

    this.requireNotOffered(script);
  }

  /** Rejects a change of signed fields once an agent may hold the signed offer. */
  private requireNotOffered(script: ScheduledScript): void {
    if (this.isOffered(script)) {
      throw new AgentError(
        'CONFLICT',
        `Script ${script.id} has already been offered to a site; delete it and create a new one`,
      );
    }
  }

  /** Reports whether an agent may hold the script's signed offer. */
  private isOffered(script: ScheduledScript): boolean {
    return this.options.deliveries.list(script.id).some((d) => d.state !== 'waiting');
  }

  private draftDefaults(now: number) {
    return {
      now,
      defaultExpiryMs: this.options.defaultExpiryMs,
      siteExists: (siteId: string) => this.options.scripts.siteExists(siteId),
    };
  }
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function deliveryResource(delivery: Delivery): Record<string, unknown> {
  return {
    state: delivery.state,
    offered_at: iso(delivery.offeredAt),
    accepted_at: iso(delivery.acceptedAt),
    launched_at: iso(delivery.launchedAt),
    launched_device_ids: delivery.launchedDeviceIds ?? null,
    reject_code: delivery.rejectCode ?? null,
    reject_message: delivery.rejectMessage ?? null,
    agent_verdict: delivery.agentVerdict ?? null,
    verdict_at: iso(delivery.verdictAt),
  };
}

function deviceResource(result: DeviceResult): Record<string, unknown> {
  return {
    device_id: result.deviceId,
    state: result.state,
    revision: result.revision,
    error_code: result.reasonCode ?? null,
    error_message: result.reasonMessage ?? null,
    error_line: result.errorLine ?? null,
    error_column: result.errorColumn ?? null,
    output: result.output ?? null,
    output_truncated: result.outputTruncated,
    output_bytes: result.outputBytes,
    output_captured: result.outputCaptured,
    started_at: iso(result.startedAt),
    finished_at: iso(result.finishedAt),
    updated_at: iso(result.updatedAt),
  };
}
