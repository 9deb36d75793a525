import type { Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
  type Server as TlsServer,
} from 'node:tls';

import { ServiceListener } from '../service-listener.js';
import { ApiConnection, type ApiConnectionContext } from './connection.js';

export type ApiServerOptions = ApiConnectionContext & {
  /** Address to listen on. */
  host: string;
  /** TCP port; 0 lets the kernel choose. */
  port: number;
  /** TLS settings for API-SSL; undefined serves the plain API. */
  tls: SecureContextOptions | undefined;
  /** Whether `/ip service` allows a client address; see ServiceListener. Default: all. */
  isAllowed?: (address: string) => boolean;
};

/**
 * The API or API-SSL service of one device. A plain TCP listener accepts every socket, so a
 * silent or filtered client gets no TLS handshake either.
 */
export class ApiServer {
  private readonly options: ApiServerOptions;

  private readonly listener: ServiceListener;

  /**
   * Takes sockets from the listener for the TLS handshake. Created on the first API-SSL
   * connection, because a TLS context per idle device would cost memory for nothing.
   */
  private tlsServer: TlsServer | undefined;

  /** TLS sockets wrapping the listener's sockets, closed with them. */
  private readonly tlsSockets = new Set<TLSSocket>();

  constructor(options: ApiServerOptions) {
    this.options = options;
    this.listener = new ServiceListener({
      ...options,
      service: options.tls === undefined ? 'api' : 'api-ssl',
      serve: (socket) => this.serve(socket),
    });
  }

  /** Starts listening and returns the port. */
  listen(port = this.options.port): Promise<number> {
    return this.listener.listen(port);
  }

  /** The listening port, or 0 when not listening. */
  get port(): number {
    return this.listener.port;
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    this.disconnectTls();
    return this.listener.close();
  }

  /** Closes every client connection at once, without a reply, as a rebooting router does. */
  disconnectAll(): void {
    this.disconnectTls();
    this.listener.disconnectAll();
  }

  private serve(socket: Socket): void {
    const { tls, logger } = this.options;
    if (tls === undefined) {
      new ApiConnection(socket, this.options);
      return;
    }

    if (this.tlsServer === undefined) {
      this.tlsServer = createTlsServer(tls, (tlsSocket) => this.serveTls(tlsSocket));
      this.tlsServer.on('tlsClientError', (error) =>
        logger.debug({ err: error }, 'api-ssl handshake failed'),
      );
    }

    this.tlsServer.emit('connection', socket);
  }

  private serveTls(socket: TLSSocket): void {
    this.tlsSockets.add(socket);
    socket.once('close', () => this.tlsSockets.delete(socket));
    new ApiConnection(socket, this.options);
  }

  private disconnectTls(): void {
    for (const socket of this.tlsSockets) {
      socket.destroy();
    }

    this.tlsSockets.clear();
  }
}
