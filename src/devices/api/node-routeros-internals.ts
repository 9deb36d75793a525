import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/**
 * The runtime shape of node-routeros 1.6.9 classes that the fixes and the connection touch. The
 * package's own declarations mark these members private, so the fixes reach them through these
 * types; they are checked against the installed version by `applyNodeRouterosFixes`.
 */

/** A parsed reply sentence: the reply word first, then attribute words, `.tag` removed. */
export type Packet = string[];

export type ReceiverInternals = {
  socket: Socket;
  /** Readers by tag, registered by channels and removed when a channel closes. */
  tags: Map<string, { name: string; callback: (packet: Packet) => void }>;
  currentPacket: Packet;
  processRawData(data: Buffer): void;
  sendTagData(tag: string): void;
  cleanUp(): void;
};

export type TransmitterInternals = {
  encodeString(word: string | null): Buffer | string;
};

export type ConnectorInternals = EventEmitter & {
  host: string;
  port: number;
  timeout: number;
  socket: Socket | undefined;
  receiver: ReceiverInternals;
  connect(): ConnectorInternals;
  write(words: string[]): ConnectorInternals;
  read(tag: string, callback: (packet: Packet) => void): void;
  stopRead(tag: string): void;
  destroy(): void;
  onTimeout(): void;
  onError(error: Error): void;
};

export type ChannelInternals = EventEmitter & {
  id: string;
  connector: ConnectorInternals;
  data: Array<Record<string, string>>;
  trapped: boolean;
  streaming: boolean;
  write(
    words: string[],
    isStream?: boolean,
    returnPromise?: boolean,
  ): Promise<Array<Record<string, string>>> | undefined;
  readAndWrite(words: string[]): void;
  processPacket(packet: Packet): void;
  close(force?: boolean): void;
};

export type RouterOsApiInternals = {
  port: number;
  setOptions(options: { port?: number; tls?: unknown; [name: string]: unknown }): void;
};
