import { AgentError, type ErrorCode, isAgentError } from '../errors.js';
import type { AgentMetrics } from './metrics.js';
import { renderStatusPage } from './page.js';
import {
  buildStatusView,
  isoTime,
  jobView,
  progressView,
  runView,
  type StatusSource,
} from './view.js';

/** A response before it is written: status, content type and body. */
export type Reply = {
  status: number;
  contentType: string;
  body: string;
};

/** Input of a route handler: the path's captured parts, the query string and the agent. */
export type RouteContext = {
  params: readonly string[];
  query: URLSearchParams;
  source: StatusSource;
  metrics: AgentMetrics;
  storeProbe: StoreProbe;
};

type Route = {
  pattern: RegExp;
  handle(context: RouteContext): Reply | Promise<Reply>;
};

/** Job ids are UUIDs; this also keeps odd bytes out of store queries and messages. */
const ID = '([0-9A-Za-z-]{1,64})';

/** Jobs `/jobs` lists by default and at most. */
const JOB_LIST = { default: 50, max: 500 } as const;

/** Time a readiness probe result is reused, so frequent probes do not each sync the disk. */
const PROBE_CACHE_MS = 2000;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Every route; each serves GET and HEAD only. */
export const ROUTES: readonly Route[] = [
  { pattern: /^\/$/, handle: statusPage },
  { pattern: /^\/livez$/, handle: () => json(200, { status: 'ok' }) },
  { pattern: /^\/readyz$/, handle: readiness },
  { pattern: /^\/status$/, handle: ({ source }) => json(200, buildStatusView(source)) },
  { pattern: /^\/jobs$/, handle: listJobs },
  { pattern: new RegExp(`^/jobs/${ID}$`), handle: jobDetail },
  { pattern: new RegExp(`^/scripts/scheduled/${ID}/progress$`), handle: progress },
  { pattern: /^\/metrics$/, handle: metrics },
];

/** Returns a JSON reply. */
export function json(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(value, null, 2)}\n` };
}

/** Returns a JSON error reply with a stable code and a message. */
export function errorReply(status: number, code: ErrorCode, message: string): Reply {
  return json(status, { code, message });
}

function statusPage({ source }: RouteContext): Reply {
  const page = renderStatusPage(buildStatusView(source), source.queries.recentJobs(20));
  return { status: 200, contentType: 'text/html; charset=utf-8', body: page };
}

/** Checks that the store takes writes, reusing a result for PROBE_CACHE_MS. */
export class StoreProbe {
  /** The last probe; replaced, never changed in place. */
  private last: { at: number; failure: AgentError | undefined } | undefined;

  /** Returns the error of the latest probe, or undefined when the store took the write. */
  check(source: StatusSource): AgentError | undefined {
    const now = source.clock.now();
    const last = this.last;
    if (last !== undefined && now >= last.at && now - last.at < PROBE_CACHE_MS) {
      return last.failure;
    }

    const failure = probeStore(source, now);
    this.last = { at: now, failure };
    return failure;
  }
}

/**
 * Ready when the store takes writes and a configuration is loaded. The control-plane link is
 * reported but never makes the agent unready: the agent keeps running jobs through an outage.
 */
function readiness({ source, storeProbe }: RouteContext): Reply {
  const config = source.configState();
  const failure = storeProbe.check(source);
  const body = {
    ready: failure === undefined,
    store: failure === undefined ? { ok: true } : { ok: false, code: failure.code },
    config: {
      ok: true,
      file: config.file,
      loadedAt: isoTime(config.loadedAt),
      reloadError:
        config.reloadError === undefined
          ? null
          : { code: config.reloadError.code, at: isoTime(config.reloadError.at) },
    },
    uplink: { state: source.uplink().state },
  };
  return json(failure === undefined ? 200 : 503, body);
}

function probeStore(source: StatusSource, now: number): AgentError | undefined {
  try {
    if (!source.store.database.open) {
      return new AgentError('STORE_FAILED', 'the store is closed');
    }

    source.queries.probeWrite(now);
    return undefined;
  } catch (error) {
    return isAgentError(error) ? error : new AgentError('STORE_FAILED', String(error));
  }
}

function listJobs({ source, query }: RouteContext): Reply {
  const text = query.get('limit');
  const limit = text === null ? JOB_LIST.default : Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > JOB_LIST.max) {
    return errorReply(
      400,
      'REQUEST_INVALID',
      `limit must be a whole number from 1 to ${JOB_LIST.max}, not ${JSON.stringify(text)}`,
    );
  }

  return json(200, { jobs: source.queries.recentJobs(limit).map(jobView) });
}

function jobDetail({ source, params }: RouteContext): Reply {
  const jobId = params[0] ?? '';
  const job = source.queries.job(jobId);
  if (job === undefined) {
    return jobNotFound(jobId);
  }

  return json(200, { job: jobView(job), runs: source.store.runs.list(jobId).map(runView) });
}

function progress({ source, params }: RouteContext): Reply {
  const jobId = params[0] ?? '';
  const job = source.queries.job(jobId);
  if (job === undefined) {
    return jobNotFound(jobId);
  }

  return json(200, progressView(source.siteId, job));
}

async function metrics({ metrics }: RouteContext): Promise<Reply> {
  const { contentType, body } = await metrics.render();
  return { status: 200, contentType, body };
}

function jobNotFound(jobId: string): Reply {
  return errorReply(404, 'JOB_NOT_FOUND', `job ${jobId} is not stored on this agent`);
}
