import { createServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
} from 'node:tls';

import { AgentError } from '../../errors.js';
import { ApiConnection, type ApiConnectionContext } from './connection.js';

export type ApiServerOptions = ApiConnectionContext & {
  /** Address to listen on. */
  host: string;
  /** TCP port; 0 lets the kernel choose. */
  port: number;
  /** TLS settings for API-SSL; undefined serves the plain API. */
  tls: SecureContextOptions | undefined;
  /**
   * Whether `/ip service` allows a client address. A refused client is accepted by TCP and
   * never answered, as RouterOS drops its packets. Default: every address is allowed.
   */
  isAllowed?: (address: string) => boolean;
};

/**
 * The API or API-SSL service of one device. Sockets are accepted by a plain TCP server in both
 * cases so that a silent or filtered client gets no TLS handshake either.
 */
export class ApiServer {
  private readonly options: ApiServerOptions;

  private readonly server: Server;

  /** Accepts sockets handed over from `server` once they may be answered; API-SSL only. */
  private readonly tlsServer;

  /** Every open client socket, answered or not, so that `disconnectAll` reaches them all. */
  private readonly sockets = new Set<Socket | TLSSocket>();

  constructor(options: ApiServerOptions) {
    this.options = options;
    this.server = createServer((socket) => this.accept(socket));
    this.tlsServer =
      options.tls === undefined
        ? undefined
        : createTlsServer(options.tls, (socket) => this.serve(socket));
    this.tlsServer?.on('tlsClientError', (error) =>
      options.logger.debug({ err: error }, 'api-ssl handshake failed'),
    );
  }

  /** Starts listening and returns the port. */
  listen(port = this.options.port): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          new AgentError(
            'INTERNAL',
            `cannot listen on ${this.options.host}:${port}: ${error.message}; choose another port or address`,
            { cause: error, details: { host: this.options.host, port } },
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port }, () => {
        this.server.off('error', onError);
        resolve(this.port);
      });
    });
  }

  /** The listening port, or 0 when not listening. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }

      this.server.close(() => resolve());
    });
    this.disconnectAll();
    return closed;
  }

  /** Closes every client connection at once, without a reply, as a rebooting router does. */
  disconnectAll(): void {
    for (const socket of this.sockets) {
      socket.destroy();
    }

    this.sockets.clear();
  }

  private accept(socket: Socket): void {
    this.track(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);

    const address = socket.remoteAddress ?? '';
    const allowed = this.options.isAllowed?.(address) ?? true;
    if (!allowed || this.options.faults.has('silent')) {
      this.options.logger.debug({ address, allowed }, 'api client ignored');
      socket.resume();
      return;
    }

    if (this.tlsServer === undefined) {
      this.serve(socket);
    } else {
      this.tlsServer.emit('connection', socket);
    }
  }

  private serve(socket: Socket | TLSSocket): void {
    this.track(socket);
    new ApiConnection(socket, this.options);
  }

  private track(socket: Socket | TLSSocket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
