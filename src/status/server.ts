import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { AgentError, errorMessage } from '../errors.js';
import type { Logger } from '../logging.js';
import { AUTH_CHALLENGES, authorizationMatches, OPEN_PATHS } from './auth.js';
import type { AgentMetrics } from './metrics.js';
import { errorReply, type Reply, ROUTES, type RouteContext, StoreProbe } from './routes.js';
import type { StatusSource } from './view.js';

export type StatusServerOptions = {
  /** Listen address; loopback unless a token is set (the daemon checks that rule at start). */
  host: string;
  /** TCP port; 0 lets the kernel choose, which tests use. */
  port: number;
  /** Bearer token every path except /livez and /readyz requires; no token means no check. */
  token?: string;
  source: StatusSource;
  metrics: AgentMetrics;
  logger: Logger;
};

/** Headers of every response: nothing is cached, sniffed or sent on as a referrer. */
const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** The page may use its inline style sheet and nothing else: no scripts, no outside assets. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/**
 * The agent's local status endpoint on node:http: health, status, jobs, progress, metrics and
 * a status page, read-only. Unknown paths get 404 and other methods than GET and HEAD get 405,
 * both as JSON with an error code.
 */
export class StatusServer {
  private readonly server: Server;

  private readonly options: StatusServerOptions;

  private readonly logger: Logger;

  private readonly storeProbe = new StoreProbe();

  private constructor(options: StatusServerOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'status' });
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error({ err: error }, 'status request failed');
        response.destroy();
      });
    });
    // Short limits: this endpoint serves small GET requests to local tools.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
    this.server.keepAliveTimeout = 5_000;
  }

  /**
   * Starts listening and logs the bound URL. Throws LISTEN_FAILED when the address cannot be
   * bound, such as a port in use.
   */
  static async start(options: StatusServerOptions): Promise<StatusServer> {
    const status = new StatusServer(options);
    await status.listen();
    return status;
  }

  /** Base URL, such as `http://127.0.0.1:9181`, with the port actually bound. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Stops listening and closes open connections. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private listen(): Promise<void> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new AgentError(
            'LISTEN_FAILED',
            `the status endpoint cannot listen on ${host}:${port} (${error.code ?? errorMessage(error)}); change status.listen or stop what uses the port`,
            { cause: error, details: { host, port } },
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) =>
          this.logger.error({ err: error }, 'status server error'),
        );
        this.logger.info({ url: this.url }, 'status endpoint listening');
        resolve();
      });
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const url = requestUrl(request.url);
    const reply = await this.route(request, url);

    const headers: Record<string, string | string[]> = {
      ...COMMON_HEADERS,
      'content-type': reply.contentType,
      'content-length': String(Buffer.byteLength(reply.body)),
    };
    if (reply.contentType.startsWith('text/html')) {
      headers['content-security-policy'] = PAGE_POLICY;
    }

    if (reply.status === 401) {
      headers['www-authenticate'] = [...AUTH_CHALLENGES];
    }

    if (reply.status === 405) {
      headers.allow = 'GET, HEAD';
    }

    response.writeHead(reply.status, headers);
    response.end(request.method === 'HEAD' ? undefined : reply.body);
    this.logger.debug(
      {
        method: request.method,
        path: url.pathname,
        status: reply.status,
        ms: Math.round(performance.now() - startedAt),
      },
      'status request',
    );
  }

  private async route(request: IncomingMessage, url: URL): Promise<Reply> {
    const { token, source, metrics } = this.options;
    if (
      token !== undefined &&
      !OPEN_PATHS.has(url.pathname) &&
      !authorizationMatches(request.headers.authorization, token)
    ) {
      return errorReply(
        401,
        'UNAUTHORIZED',
        'send the status token as Authorization: Bearer, or as the password in a browser',
      );
    }

    for (const route of ROUTES) {
      const match = route.pattern.exec(url.pathname);
      if (match === null) {
        continue;
      }

      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return errorReply(405, 'REQUEST_INVALID', `${request.method} is not allowed; use GET`);
      }

      const context: RouteContext = {
        params: match.slice(1),
        query: url.searchParams,
        source,
        metrics,
        storeProbe: this.storeProbe,
      };
      return this.answer(route, context);
    }

    return errorReply(404, 'NOT_FOUND', `no such path: ${url.pathname}`);
  }

  private async answer(route: (typeof ROUTES)[number], context: RouteContext): Promise<Reply> {
    try {
      return await route.handle(context);
    } catch (error) {
      this.logger.error({ err: error }, 'status route failed');
      const code = error instanceof AgentError ? error.code : 'INTERNAL';
      return errorReply(500, code, 'the agent could not read its state; see its log');
    }
  }
}

/**
 * Parses a request target as a path on this server. Resolving it against a base would read
 * `//status` as the host `status` with the path `/`, and so serve the page. Appended to an
 * origin, it keeps its empty segment and matches no route. A target that is not a path, such
 * as an absolute URL, becomes one percent-encoded segment, which matches no route either.
 */
function requestUrl(target = '/'): URL {
  const path = target.startsWith('/') ? target : `/${encodeURIComponent(target)}`;
  return new URL(`http://status.invalid${path}`);
}
