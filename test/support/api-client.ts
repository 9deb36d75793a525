import { connect as connectTcp, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls, type TLSSocket } from 'node:tls';

import { encodeSentence, SentenceDecoder } from '../../src/devices/api/codec.js';

/**
 * A bare RouterOS API client for tests: sends sentences as given and returns every reply
 * sentence as received, so tests see the wire exactly.
 */
export class RawApiClient {
  readonly socket: Socket | TLSSocket;

  private readonly decoder = new SentenceDecoder();

  /** Sentences received and not yet taken by `next`. */
  private readonly received: string[][] = [];

  /** Callers of `next` waiting for a sentence, in call order. */
  private readonly waiters: Array<(sentence: string[] | undefined) => void> = [];

  /** Resolves when the server closed the connection or it failed. */
  readonly closed: Promise<void>;

  private ended = false;

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const sentence of this.decoder.push(chunk)) {
        this.deliver(sentence);
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        for (const waiter of this.waiters.splice(0)) {
          waiter(undefined);
        }
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  /** Connects over plain TCP, or over TLS when `tls` is given. */
  static async connect(port: number, host = '127.0.0.1', tls?: ConnectionOptions) {
    const socket =
      tls === undefined ? connectTcp({ host, port }) : connectTls({ host, port, ...tls });
    const event = tls === undefined ? 'connect' : 'secureConnect';

    await new Promise<void>((resolve, reject) => {
      socket.once(event, () => resolve());
      socket.once('error', reject);
    });
    return new RawApiClient(socket);
  }

  send(words: readonly string[]): void {
    this.socket.write(encodeSentence(words));
  }

  /** Returns the next reply sentence, or undefined once the connection closed. */
  next(timeoutMs = 5000): Promise<string[] | undefined> {
    const sentence = this.received.shift();
    if (sentence !== undefined || this.ended) {
      return Promise.resolve(sentence);
    }

    return new Promise((resolve, reject) => {
      const waiter = (value: string[] | undefined): void => {
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends a sentence and returns the replies up to and including the first `!done`. */
  async call(words: readonly string[]): Promise<string[][]> {
    this.send(words);
    const replies: string[][] = [];
    for (;;) {
      const sentence = await this.next();
      if (sentence === undefined) {
        return replies;
      }

      replies.push(sentence);
      if (sentence[0] === '!done') {
        return replies;
      }
    }
  }

  /** Reports whether the server sends nothing for `ms` milliseconds. */
  async isQuietFor(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(sentence: string[]): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) {
      this.received.push(sentence);
    } else {
      waiter(sentence);
    }
  }
}
