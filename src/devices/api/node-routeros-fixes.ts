import { createRequire } from 'node:module';

import { Channel, Connector, Receiver, RouterOSAPI, Transmitter } from 'node-routeros';

import { AgentError } from '../../errors.js';
import { type ApiTrap, ApiTrapError, toApiTrap } from './api-trap.js';
import { encodeWord, SentenceDecoder } from './codec.js';
import { connectionFailure, failConnection, reportDroppedReply } from './connection-state.js';
import type {
  ChannelInternals,
  ConnectorInternals,
  Packet,
  ReceiverInternals,
  RouterOsApiInternals,
  TransmitterInternals,
} from './node-routeros-internals.js';

/**
 * Fixes for defects of node-routeros 1.6.9, its final release, applied to its prototypes at load
 * time. Each fix names the defect it removes; each has a regression test against the simulator.
 * The fixes replace whole methods, so they are tied to this exact version.
 */
export const NODE_ROUTEROS_VERSION = '1.6.9';

/** Event a patched channel emits with an AgentError when its command can never complete. */
export const CHANNEL_FAILED = 'failed';

/** Default port of API-SSL. */
const API_SSL_PORT = 8729;

type ChannelState = ChannelInternals & { traps?: ApiTrap[] };

type ReceiverState = ReceiverInternals & { decoder?: SentenceDecoder };

let applied = false;

/**
 * Applies every fix once per process. Throws INTERNAL when another node-routeros version is
 * installed, because the replaced methods would no longer match the code around them.
 */
export function applyNodeRouterosFixes(): void {
  if (applied) {
    return;
  }

  const installed = installedVersion();
  if (installed !== NODE_ROUTEROS_VERSION) {
    throw new AgentError(
      'INTERNAL',
      `node-routeros ${installed} is installed, but the API transport patches ${NODE_ROUTEROS_VERSION}; run "npm ci" to install the pinned version`,
      { details: { installed, expected: NODE_ROUTEROS_VERSION } },
    );
  }

  frameSentencesByTerminator();
  dropRepliesForUnknownTags();
  ignoreIdleTimeout();
  settleCommandsWhenConnectionEnds();
  carryBytesUnchanged();
  defaultTlsPortTo8729();
  keepEveryTrap();
  acceptEmptyAndUnknownReplies();
  writeEachSentenceAtOnce();
  applied = true;
}

function installedVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest: unknown = require('node-routeros/package.json');
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

/**
 * Defect: the receiver splits replies at reply words instead of at the zero-length word that ends
 * a sentence. A reply whose last word is cut across TCP segments is never delivered, and a
 * reserved length byte or a huge length is read as garbage.
 *
 * Fix: frame sentences with the codec's decoder. It caps word and sentence sizes, and bad framing
 * fails the connection with DEVICE_PROTOCOL_ERROR. The decoder reads words as bytes (latin1)
 * instead of Windows-1252, which is the receiving half of `carryBytesUnchanged`.
 */
function frameSentencesByTerminator(): void {
  const receiver = Receiver.prototype as unknown as ReceiverState;

  receiver.processRawData = function processRawData(this: ReceiverState, data: Buffer): void {
    if (this.socket.destroyed) {
      return;
    }

    this.decoder ??= new SentenceDecoder();
    let sentences: string[][];
    try {
      sentences = this.decoder.push(data);
    } catch (error) {
      failConnection(this.socket, asProtocolError(error));
      return;
    }

    for (const words of sentences) {
      dispatchSentence(this, words);
      if (this.socket.destroyed) {
        return;
      }
    }
  };
}

function dispatchSentence(receiver: ReceiverState, words: string[]): void {
  const tagIndex = words.findIndex((word) => word.startsWith('.tag='));
  const tag = tagIndex === -1 ? undefined : words[tagIndex]?.slice('.tag='.length);
  const packet = words.filter((_, index) => index !== tagIndex);
  const reply = packet[0];

  if (reply === undefined || !reply.startsWith('!')) {
    failConnection(
      receiver.socket,
      new AgentError(
        'DEVICE_PROTOCOL_ERROR',
        `the device sent a sentence that does not start with a reply word: ${describeWords(words)}`,
        { details: { reason: 'no-reply-word' } },
      ),
    );
    return;
  }

  if (tag === undefined) {
    dispatchUntagged(receiver, packet);
    return;
  }

  receiver.currentPacket = packet;
  try {
    receiver.sendTagData(tag);
  } catch (error) {
    failConnection(
      receiver.socket,
      new AgentError('INTERNAL', `handling the reply ${reply} for tag ${tag} failed`, {
        cause: error,
      }),
    );
  }
}

/** Commands always carry a tag, so an untagged reply is either `!fatal` or stray. */
function dispatchUntagged(receiver: ReceiverState, packet: Packet): void {
  const [reply, ...rest] = packet;
  if (reply === '!fatal') {
    failConnection(receiver.socket, fatalError(rest));
    return;
  }

  reportDroppedReply(receiver.socket, reply ?? '', undefined);
}

/**
 * Defect: a reply for a tag that is no longer registered (a command that timed out or was
 * cancelled) throws UNREGISTEREDTAG inside the socket's data handler, which ends the process.
 * Fix: drop the reply and report it to the connection's listener.
 */
function dropRepliesForUnknownTags(): void {
  const receiver = Receiver.prototype as unknown as ReceiverState;

  receiver.sendTagData = function sendTagData(this: ReceiverState, tag: string): void {
    const reader = this.tags.get(tag);
    const packet = this.currentPacket;
    this.cleanUp();

    if (reader === undefined) {
      reportDroppedReply(this.socket, packet[0] ?? '', tag);
      return;
    }

    reader.callback(packet);
  };
}

/**
 * Defect: the socket idle timeout (default 10 s) is emitted as a fatal `timeout` that destroys
 * the connection. Any command quiet for longer (a script with `:delay`) loses its connection.
 * After login, RouterOSAPI re-emits the timeout as `error`, which throws without a listener.
 *
 * Fix: an idle socket is not an error. Every wait has its own timeout in the caller instead.
 */
function ignoreIdleTimeout(): void {
  const connector = Connector.prototype as unknown as ConnectorInternals;

  connector.onTimeout = function onTimeout(): void {
    // Idle is the normal state of an API connection between commands.
  };
}

/**
 * Defect: a command's promise never settles when the socket ends, fails or is destroyed. A socket
 * error emitted after the connector removed its listeners throws.
 *
 * Fix: every channel listens for its socket's `close` and then fails with the recorded reason, or
 * with CONNECTION_LOST. A command written to a closed socket fails at once. The connector emits
 * socket errors only to its listeners, so an error without one no longer throws.
 */
function settleCommandsWhenConnectionEnds(): void {
  const channel = Channel.prototype as unknown as ChannelState;
  const originalReadAndWrite = channel.readAndWrite;

  channel.readAndWrite = function readAndWrite(this: ChannelState, words: string[]): void {
    const socket = this.connector.socket;
    if (socket === undefined || socket.destroyed) {
      const failure = (socket && connectionFailure(socket)) ?? connectionLost(this.connector);
      process.nextTick(() => this.emit(CHANNEL_FAILED, failure));
      return;
    }

    const onSocketClose = (): void => {
      this.emit(CHANNEL_FAILED, connectionFailure(socket) ?? connectionLost(this.connector));
      this.close(true);
    };
    socket.once('close', onSocketClose);
    this.once('close', () => socket.removeListener('close', onSocketClose));
    originalReadAndWrite.call(this, words);
  };

  const connector = Connector.prototype as unknown as ConnectorInternals;
  connector.onError = function onError(this: ConnectorInternals, error: Error): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error, this);
    }

    this.destroy();
  };
}

/**
 * Defect: words are encoded and decoded as Windows-1252 through iconv-lite. Every character
 * outside it silently becomes `?`, and bytes 0x80 to 0x9F change.
 *
 * Fix: words are byte strings (one latin1 character per byte), which the transport encodes in
 * the device's code page itself. A character above 0xFF is a caller bug, so it fails the command
 * with ENCODING_ERROR instead of being truncated. The sentence framing reads words as bytes.
 */
function carryBytesUnchanged(): void {
  const transmitter = Transmitter.prototype as unknown as TransmitterInternals;
  transmitter.encodeString = function encodeString(word: string | null): Buffer {
    if (word === null) {
      return Buffer.from([0]);
    }

    return encodeWord(word);
  };

  const channel = Channel.prototype as unknown as ChannelState;
  const guardedReadAndWrite = channel.readAndWrite;
  channel.readAndWrite = function readAndWrite(this: ChannelState, words: string[]): void {
    const wide = words.find((word) => Buffer.from(word, 'latin1').toString('latin1') !== word);
    if (wide !== undefined) {
      const error = new AgentError(
        'ENCODING_ERROR',
        `an API word holds a character above 0xFF and cannot be sent as bytes: ${describeWords([wide])}; encode it in the device's code page first`,
      );
      process.nextTick(() => this.emit(CHANNEL_FAILED, error));
      return;
    }

    guardedReadAndWrite.call(this, words);
  };
}

/**
 * Defect: every word of a sentence is a socket write of its own. On a socket with Nagle's
 * algorithm on (node-routeros never turns it off), the words after the first wait for the
 * device to acknowledge the first, which a Linux peer delays by up to 40 ms: a run of four
 * commands took 260 ms instead of 120 ms against a device answering in 20 ms per reply.
 *
 * Fix: the socket is corked while a sentence's words are written, so the sentence leaves in one
 * write. `ApiConnection` also turns Nagle's algorithm off, as request-reply protocols do.
 */
function writeEachSentenceAtOnce(): void {
  const connector = Connector.prototype as unknown as ConnectorInternals;
  const originalWrite = connector.write;

  connector.write = function write(this: ConnectorInternals, words: string[]) {
    const socket = this.socket;
    socket?.cork();
    try {
      return originalWrite.call(this, words);
    } finally {
      socket?.uncork();
    }
  };
}

/** Defect: with `tls` set and no port, RouterOSAPI still connects to 8728. Fix: default 8729. */
function defaultTlsPortTo8729(): void {
  const api = RouterOSAPI.prototype as unknown as RouterOsApiInternals;
  const originalSetOptions = api.setOptions;

  api.setOptions = function setOptions(this: RouterOsApiInternals, options): void {
    originalSetOptions.call(this, options);
    if (options.port === undefined && options.tls !== undefined && options.tls !== false) {
      this.port = API_SSL_PORT;
    }
  };
}

/**
 * Defect: only the first of several traps for one command is kept, and its category is dropped.
 *
 * Fix: collect every trap with its category and reject on `!done` with an ApiTrapError. A
 * patched channel also reports `!done` attributes separately, as the second argument of `done`,
 * and fails with CHANNEL_FAILED when its command can never complete.
 */
function keepEveryTrap(): void {
  const channel = Channel.prototype as unknown as ChannelState;

  channel.write = function write(
    this: ChannelState,
    words,
    isStream = false,
    returnPromise = true,
  ) {
    this.streaming = isStream;
    words.push(`.tag=${this.id}`);
    if (!returnPromise) {
      this.readAndWrite(words);
      return undefined;
    }

    return new Promise((resolve, reject) => {
      this.on('data', (row: Record<string, string>) => this.data.push(row));
      // Callers of the promise form get `!done` attributes (such as `ret`) as a last row, as
      // node-routeros always returned them.
      this.once('done', (rows: Array<Record<string, string>>, done: Record<string, string>) =>
        resolve(Object.keys(done).length > 0 ? [...rows, done] : rows),
      );
      this.once('trap', (error: ApiTrapError) => reject(error));
      this.once(CHANNEL_FAILED, reject);
      this.readAndWrite(words);
    });
  };

  channel.processPacket = function processPacket(this: ChannelState, packet: Packet): void {
    const [reply, ...words] = packet;
    const attributes = parseAttributes(words);

    switch (reply) {
      case '!re':
        this.emit(this.streaming ? 'stream' : 'data', attributes);
        return;
      case '!trap':
        this.trapped = true;
        this.traps = [...(this.traps ?? []), toApiTrap(attributes)];
        return;
      case '!done':
        finishCommand(this, attributes);
        return;
      case '!fatal':
        if (this.connector.socket !== undefined) {
          failConnection(this.connector.socket, fatalError(words));
        }
        return;
      default:
        // node-routeros's own handling, which `acceptEmptyAndUnknownReplies` replaces.
        this.emit('unknown', reply);
        this.close();
    }
  };
}

/**
 * Defect: any reply word other than `!re`, `!done` and `!trap` is thrown inside the socket's
 * data handler, which ends the process. RouterOS 7.18 and later send such a word, `!empty`,
 * whenever a print finds nothing.
 *
 * Fix: treat `!empty` as zero rows, so the command finishes on the `!done` that follows. Fail
 * the command with DEVICE_PROTOCOL_ERROR on any other reply word.
 */
function acceptEmptyAndUnknownReplies(): void {
  const channel = Channel.prototype as unknown as ChannelState;
  const knownProcessPacket = channel.processPacket;

  channel.processPacket = function processPacket(this: ChannelState, packet: Packet): void {
    const reply = packet[0];
    if (reply === '!empty') {
      return;
    }

    if (reply !== undefined && KNOWN_REPLIES.has(reply)) {
      knownProcessPacket.call(this, packet);
      return;
    }

    this.emit(CHANNEL_FAILED, unknownReplyError(reply, this.id));
    this.close(true);
  };
}

const KNOWN_REPLIES: ReadonlySet<string> = new Set(['!re', '!trap', '!done', '!fatal']);

function finishCommand(channel: ChannelState, done: Record<string, string>): void {
  if (channel.traps !== undefined && channel.traps.length > 0) {
    channel.emit('trap', new ApiTrapError(channel.traps));
  } else {
    channel.emit('done', channel.data, done);
  }

  channel.close(true);
}

/** Parses `=name=value` words (split at the second `=` only) and `.name=value` API words. */
export function parseAttributes(words: readonly string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const word of words) {
    const start = word.startsWith('=') ? 1 : word.startsWith('.') ? 0 : -1;
    const separator = start === -1 ? -1 : word.indexOf('=', start);
    if (separator > 0) {
      attributes[word.slice(start, separator)] = word.slice(separator + 1);
    }
  }

  return attributes;
}

function connectionLost(connector: ConnectorInternals): AgentError {
  return new AgentError(
    'CONNECTION_LOST',
    `the API connection to ${connector.host}:${connector.port} closed before the command finished; check that the device is up and run it again`,
    { details: { host: connector.host, port: connector.port } },
  );
}

function fatalError(words: readonly string[]): AgentError {
  const reason = words.join(' ') || 'no reason given';
  return new AgentError('CONNECTION_LOST', `the device ended the API session: ${reason}`, {
    details: { reason },
  });
}

function unknownReplyError(reply: string | undefined, tag: string): AgentError {
  return new AgentError(
    'DEVICE_PROTOCOL_ERROR',
    `the device sent the unknown reply ${JSON.stringify(reply)} for command ${tag}`,
    { details: { reason: 'unknown-reply', reply } },
  );
}

function asProtocolError(error: unknown): AgentError {
  if (error instanceof AgentError) {
    return error;
  }

  return new AgentError('DEVICE_PROTOCOL_ERROR', 'the device sent bytes that cannot be parsed', {
    cause: error,
  });
}

/** Quotes at most the first 120 characters of each word, for messages. */
function describeWords(words: readonly string[]): string {
  return words.map((word) => JSON.stringify(word.slice(0, 120))).join(' ');
}
