import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** Polls `condition` every 10 ms until it holds, failing after `timeoutMs` of real time. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }

    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A frame as the peer sent it, parsed when it was JSON. */
export type ReceivedFrame = Record<string, unknown> & { type?: string };

/** A WebSocket peer that records every frame it receives. */
export class RecordingPeer {
  readonly frames: ReceivedFrame[] = [];

  closeCode: number | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ReceivedFrame);
    });
    socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  ofType(type: string): ReceivedFrame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  async next(type: string, count = 1, timeoutMs = 5000): Promise<ReceivedFrame> {
    await waitFor(() => this.ofType(type).length >= count, timeoutMs, `${count} ${type} frame(s)`);
    return this.ofType(type)[count - 1] as ReceivedFrame;
  }
}

/** Opens a raw agent connection to a hub, resolving on open or with the HTTP status it got. */
export function connectRaw(
  url: string,
  token: string | undefined,
): Promise<{ peer?: RecordingPeer; status?: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      url,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );
    const peer = new RecordingPeer(socket);
    socket.once('open', () => resolve({ peer }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

/** A stand-in control plane on 127.0.0.1 port 0 that records what agents send. */
export class ScriptedControlPlane {
  readonly server: WebSocketServer;

  readonly peers: RecordingPeer[] = [];

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on('connection', (socket) => {
      this.peers.push(new RecordingPeer(socket));
    });
  }

  /** Starts the server; `autoPong: false` leaves pings unanswered, like a dead link. */
  static async start(options: { autoPong?: boolean } = {}): Promise<ScriptedControlPlane> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      autoPong: options.autoPong ?? true,
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new ScriptedControlPlane(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/agent/v1`;
  }

  async peer(index = 0): Promise<RecordingPeer> {
    await waitFor(() => this.peers.length > index, 5000, 'agent connection');
    return this.peers[index] as RecordingPeer;
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) {
      client.terminate();
    }

    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
