import { connect, createServer, type Server, type Socket } from 'node:net';

import { SentenceDecoder } from '../../src/devices/api/codec.js';

/** The sentences of RouterOS API connections, as seen between client and device. */
export type ApiConversation = {
  /** First word of each request sentence the client sent, in order. */
  requests: string[];
  /** First word of each reply sentence the device sent, in order. */
  replies: string[];
};

/** A loopback TCP relay in front of one device's API port that records the conversation. */
export type ApiTap = {
  port: number;
  conversation(): ApiConversation;
  close(): Promise<void>;
};

/**
 * Starts a relay on 127.0.0.1 that forwards every connection to `targetPort` and decodes the
 * API sentences in both directions. The benchmark counts commands and reply sentences from
 * it instead of assuming what a run sends.
 */
export async function startApiTap(targetPort: number): Promise<ApiTap> {
  const conversation: ApiConversation = { requests: [], replies: [] };
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const device = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(device);
    relay(client, device, conversation.requests);
    relay(device, client, conversation.replies);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    port,
    conversation: () => ({
      requests: [...conversation.requests],
      replies: [...conversation.replies],
    }),
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }

      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function relay(from: Socket, to: Socket, words: string[]): void {
  const decoder = new SentenceDecoder();
  from.on('data', (chunk: Buffer) => {
    for (const sentence of decoder.push(chunk)) {
      words.push(sentence[0] ?? '');
    }

    to.write(chunk);
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  from.on('close', () => to.destroy());
}
