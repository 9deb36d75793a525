import { createServer, type Server, type Socket } from 'node:net';

import { AgentError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { DeviceFaults } from './fleet/faults.js';

export type ServiceListenerOptions = {
  /** Service name for logs: `api`, `api-ssl`, `ssh`. */
  service: string;
  host: string;
  /** TCP port; 0 lets the kernel choose. */
  port: number;
  faults: DeviceFaults;
  logger: Logger;
  /**
   * Whether `/ip service` allows a client address. RouterOS drops the packets of a client it
   * does not allow, so such a client is accepted by TCP and then gets no byte. Default: all.
   */
  isAllowed?: (address: string) => boolean;
  /** Serves a socket that may be served. */
  serve(socket: Socket): void;
};

/**
 * The TCP side of one device service: listens, keeps every client socket so a reboot can drop
 * them all, and leaves filtered clients and clients of a `silent` device unanswered.
 */
export class ServiceListener {
  private readonly options: ServiceListenerOptions;

  private readonly server: Server;

  /** Every open client socket; a socket leaves the set when it closes. */
  private readonly sockets = new Set<Socket>();

  constructor(options: ServiceListenerOptions) {
    this.options = options;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening and returns the port; returns the current port when already listening. */
  listen(port = this.options.port): Promise<number> {
    if (this.server.listening) {
      return Promise.resolve(this.port);
    }

    const { host, service } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          new AgentError(
            'INTERNAL',
            `cannot listen for ${service} on ${host}:${port}: ${error.message}; choose another port or address`,
            { cause: error, details: { service, host, port } },
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
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

  get listening(): boolean {
    return this.server.listening;
  }

  /** Open client sockets, served or ignored. */
  get connections(): number {
    return this.sockets.size;
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

  /** Finds an open client socket by its remote address and port. */
  findSocket(address: string | undefined, port: number | undefined): Socket | undefined {
    for (const socket of this.sockets) {
      if (socket.remoteAddress === address && socket.remotePort === port) {
        return socket;
      }
    }

    return undefined;
  }

  private accept(socket: Socket): void {
    const { faults, logger, service } = this.options;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (error) => logger.debug({ err: error, service }, 'client socket failed'));
    socket.setNoDelay(true);

    const address = socket.remoteAddress ?? '';
    const allowed = this.options.isAllowed?.(address) ?? true;
    if (!allowed || faults.has('silent')) {
      logger.debug({ service, address, allowed }, 'client ignored');
      socket.resume();
      return;
    }

    this.options.serve(socket);
  }
}
