import { createServer, type Server, type Socket } from 'node:net';

import { encodeSentence, SentenceDecoder } from '../../src/devices/api/codec.js';

/** One command a client sent after login: its words without `.tag`, and the tag. */
export type ScriptedRequest = { words: string[]; tag: string | undefined };

/** Writes whatever bytes a test wants in reply to a command, or nothing at all. */
export type ScriptedReplier = (request: ScriptedRequest, socket: Socket) => void;

export type ScriptedApiServer = {
  port: number;
  /** Commands received after login, in order. */
  requests: ScriptedRequest[];
  close(): Promise<void>;
};

/**
 * A RouterOS API server whose replies a test writes byte by byte: it accepts any `/login` with
 * a tagged `!done`, unless `replyToLogin` writes something else and returns true, and hands
 * every later command to `reply`. Used to feed the API transport replies that no real device or
 * simulator sends.
 */
export async function startScriptedApiServer(
  reply: ScriptedReplier,
  replyToLogin: (request: ScriptedRequest, socket: Socket) => boolean = () => false,
): Promise<ScriptedApiServer> {
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new SentenceDecoder();
    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed) {
        return;
      }

      for (const sentence of decoder.push(chunk)) {
        const request = toRequest(sentence);
        if (request.words[0] === '/login') {
          if (!replyToLogin(request, socket)) {
            socket.write(encodeSentence(tagged(['!done'], request.tag)));
          }
        } else {
          requests.push(request);
          reply(request, socket);
        }
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }

        server.close(() => resolve());
      }),
  };
}

/** Appends `.tag=` to reply words when the request had a tag. */
export function tagged(words: readonly string[], tag: string | undefined): string[] {
  return tag === undefined ? [...words] : [...words, `.tag=${tag}`];
}

function toRequest(sentence: readonly string[]): ScriptedRequest {
  const tagWord = sentence.find((word) => word.startsWith('.tag='));
  return {
    words: sentence.filter((word) => word !== tagWord),
    tag: tagWord?.slice('.tag='.length),
  };
}
