import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1, port chosen by the kernel, that forwards every connection to a
 * target port until `cut`. While cut it behaves like a dead link: bytes on open connections are
 * dropped without a close, so only heartbeats can notice, and new connections are reset at once.
 * `restore` drops the connections that lived through the cut and forwards new ones again.
 */
export class TcpProxy {
  private readonly server: Server;

  private readonly targetPort: number;

  /** Client–target pairs; a pair leaves the set when either side closes outside a cut. */
  private readonly pairs = new Set<[Socket, Socket]>();

  private isCut = false;

  private constructor(server: Server, targetPort: number) {
    this.server = server;
    this.targetPort = targetPort;
    server.on('connection', (client) => this.forward(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, targetPort);
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Starts dropping every byte and refusing new connections. */
  cut(): void {
    this.isCut = true;
  }

  /** Ends the connections that lived through the cut and forwards new connections again. */
  restore(): void {
    this.isCut = false;
    for (const [client, target] of this.pairs) {
      client.destroy();
      target.destroy();
    }

    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.restore();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket): void {
    if (this.isCut) {
      client.resetAndDestroy();
      return;
    }

    const target = connect(this.targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, target];
    this.pairs.add(pair);
    const relay = (from: Socket, to: Socket): void => {
      from.on('data', (chunk) => {
        if (!this.isCut) {
          to.write(chunk);
        }
      });
      // A close passes through like any TCP segment, except during a cut, when nothing does.
      from.on('close', () => {
        if (!this.isCut) {
          this.pairs.delete(pair);
          to.destroy();
        }
      });
      from.on('error', () => from.destroy());
    };
    relay(client, target);
    relay(target, client);
  }
}
