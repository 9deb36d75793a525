import { AgentError } from '../../errors.js';

/**
 * The RouterOS API wire format: words are a length prefix plus that many bytes, and a sentence
 * is words ended by a zero-length word. Words are byte strings, one latin1 character per byte,
 * so every byte value round-trips.
 *
 * Length prefixes, big-endian, with the largest length of each form:
 *
 * | bytes | encoding                 | largest length |
 * | ----- | ------------------------ | -------------- |
 * | 1     | `len`                    | `0x7F`         |
 * | 2     | `len \| 0x8000`          | `0x3FFF`       |
 * | 3     | `len \| 0xC00000`        | `0x1FFFFF`     |
 * | 4     | `len \| 0xE0000000`      | `0xFFFFFFF`    |
 * | 5     | `0xF0` then `len`        | `0xFFFFFFFF`   |
 *
 * A first byte of `0xF8` or more is a reserved control byte: nothing after it can be parsed.
 */

/** Largest length each prefix form can carry, indexed by prefix size minus one. */
export const MAX_LENGTH_BY_PREFIX_SIZE = [0x7f, 0x3fff, 0x1fffff, 0xfffffff, 0xffffffff] as const;

/** Largest word length the 5-byte prefix can carry. */
export const MAX_WORD_LENGTH = 0xffffffff;

/** Encodes a word length as its 1 to 5 byte prefix. */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_WORD_LENGTH) {
    throw new AgentError(
      'ENCODING_ERROR',
      `word length ${length} cannot be encoded; the API carries 0 to ${MAX_WORD_LENGTH} bytes`,
      { details: { length } },
    );
  }

  if (length <= 0x7f) {
    return Buffer.from([length]);
  }

  if (length <= 0x3fff) {
    const prefix = Buffer.allocUnsafe(2);
    prefix.writeUInt16BE(length | 0x8000);
    return prefix;
  }

  if (length <= 0x1fffff) {
    const prefix = Buffer.allocUnsafe(3);
    prefix.writeUIntBE(length | 0xc00000, 0, 3);
    return prefix;
  }

  if (length <= 0xfffffff) {
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeUInt32BE((length | 0xe0000000) >>> 0);
    return prefix;
  }

  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0xf0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/**
 * Returns how many bytes a length prefix starting with `firstByte` has. Throws for the reserved
 * control bytes `0xF8` to `0xFF`. `0xF1` to `0xF7` are read as the 5-byte form, whose low bits
 * carry nothing.
 */
export function lengthPrefixSize(firstByte: number): number {
  if (firstByte < 0x80) {
    return 1;
  }

  if (firstByte < 0xc0) {
    return 2;
  }

  if (firstByte < 0xe0) {
    return 3;
  }

  if (firstByte < 0xf0) {
    return 4;
  }

  if (firstByte < 0xf8) {
    return 5;
  }

  throw new AgentError(
    'DEVICE_PROTOCOL_ERROR',
    `reserved control byte 0x${firstByte.toString(16)} where a word length was expected; the stream cannot be parsed further, so close the connection`,
    { details: { reason: 'reserved-byte', byte: firstByte } },
  );
}

/**
 * Decodes the length prefix at `offset`. Returns the length and the prefix size, or undefined
 * when `bytes` ends before the prefix does.
 */
export function decodeLength(
  bytes: Uint8Array,
  offset = 0,
): { length: number; prefixSize: number } | undefined {
  const first = bytes[offset];
  if (first === undefined) {
    return undefined;
  }

  const prefixSize = lengthPrefixSize(first);
  if (offset + prefixSize > bytes.length) {
    return undefined;
  }

  return { length: readPrefix(bytes, offset, prefixSize), prefixSize };
}

function readPrefix(bytes: Uint8Array, offset: number, prefixSize: number): number {
  if (prefixSize === 5) {
    return readUint(bytes, offset + 1, 4);
  }

  const masks = [0x7f, 0x3fff, 0x1fffff, 0xfffffff];
  const mask = masks[prefixSize - 1] ?? 0;
  return (readUint(bytes, offset, prefixSize) & mask) >>> 0;
}

function readUint(bytes: Uint8Array, offset: number, size: number): number {
  let value = 0;
  for (let index = 0; index < size; index++) {
    value = value * 256 + (bytes[offset + index] ?? 0);
  }

  return value;
}

/** Encodes one word: its length prefix and its latin1 bytes. */
export function encodeWord(word: string): Buffer {
  const body = Buffer.from(word, 'latin1');
  return Buffer.concat([encodeLength(body.length), body]);
}

/** Encodes a sentence: each word, then the zero-length word that ends it. */
export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const body = Buffer.from(word, 'latin1');
    parts.push(encodeLength(body.length), body);
  }

  parts.push(END_OF_SENTENCE);
  return Buffer.concat(parts);
}

const END_OF_SENTENCE = Buffer.from([0]);

/** Size limits of a SentenceDecoder, in bytes. */
export type DecoderLimits = {
  /** Largest word accepted. Default 16 MiB. */
  maxWordBytes?: number;
  /** Largest sentence accepted, prefixes included. Default 32 MiB. */
  maxSentenceBytes?: number;
};

export const DEFAULT_MAX_WORD_BYTES = 16 * 1024 * 1024;

export const DEFAULT_MAX_SENTENCE_BYTES = 32 * 1024 * 1024;

/**
 * Turns a byte stream cut anywhere into sentences. Empty sentences are dropped. After it throws
 * (reserved control byte, word or sentence over the limits) the stream cannot be resynchronised,
 * so every later `push` throws the same error and the caller closes the connection.
 */
export class SentenceDecoder {
  private readonly maxWordBytes: number;

  private readonly maxSentenceBytes: number;

  /** Bytes of the length prefix read so far; `prefixFilled` of them are valid. */
  private readonly prefix = Buffer.alloc(5);

  private prefixFilled = 0;

  /** Bytes still missing from the current word, or undefined while a prefix is being read. */
  private wordRemaining: number | undefined;

  /** Pieces of the current word in arrival order; they sum to its length once complete. */
  private wordParts: Buffer[] = [];

  /** Words of the sentence being read. */
  private words: string[] = [];

  /** Bytes of the sentence being read, prefixes included. */
  private sentenceBytes = 0;

  private failure: AgentError | undefined;

  constructor(limits: DecoderLimits = {}) {
    this.maxWordBytes = limits.maxWordBytes ?? DEFAULT_MAX_WORD_BYTES;
    this.maxSentenceBytes = limits.maxSentenceBytes ?? DEFAULT_MAX_SENTENCE_BYTES;
  }

  /** Bytes of an unfinished sentence held, for callers that report a truncated stream. */
  get pendingBytes(): number {
    return this.sentenceBytes + this.prefixFilled;
  }

  /**
   * Feeds the next chunk and returns the sentences it completed, in order. Words that span
   * chunks keep views of them until complete, so a chunk must not be modified after the call.
   */
  push(chunk: Uint8Array): string[][] {
    if (this.failure !== undefined) {
      throw this.failure;
    }

    try {
      return this.consume(chunk);
    } catch (error) {
      this.failure = error instanceof AgentError ? error : undefined;
      throw error;
    }
  }

  private consume(chunk: Uint8Array): string[][] {
    const sentences: string[][] = [];
    let offset = 0;

    while (offset < chunk.length) {
      if (this.wordRemaining === undefined) {
        offset = this.readPrefixByte(chunk, offset, sentences);
      } else {
        offset = this.readWordBytes(chunk, offset, this.wordRemaining);
      }
    }

    return sentences;
  }

  private readPrefixByte(chunk: Uint8Array, offset: number, sentences: string[][]): number {
    this.prefix[this.prefixFilled] = chunk[offset] ?? 0;
    this.prefixFilled++;

    const decoded = decodeLength(this.prefix.subarray(0, this.prefixFilled));
    if (decoded === undefined) {
      return offset + 1;
    }

    this.prefixFilled = 0;
    this.addSentenceBytes(decoded.prefixSize + decoded.length);

    if (decoded.length === 0) {
      this.endSentence(sentences);
    } else {
      this.startWord(decoded.length);
    }

    return offset + 1;
  }

  private startWord(length: number): void {
    if (length > this.maxWordBytes) {
      throw new AgentError(
        'DEVICE_PROTOCOL_ERROR',
        `word of ${length} bytes exceeds the limit of ${this.maxWordBytes} bytes; raise maxWordBytes if such words are expected`,
        { details: { reason: 'word-too-large', length, limit: this.maxWordBytes } },
      );
    }

    this.wordRemaining = length;
    this.wordParts = [];
  }

  private readWordBytes(chunk: Uint8Array, offset: number, remaining: number): number {
    const end = Math.min(chunk.length, offset + remaining);
    this.wordParts.push(Buffer.from(chunk.buffer, chunk.byteOffset + offset, end - offset));
    this.wordRemaining = remaining - (end - offset);

    if (this.wordRemaining === 0) {
      const parts = this.wordParts;
      const word = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      this.words.push(word?.toString('latin1') ?? '');
      this.wordParts = [];
      this.wordRemaining = undefined;
    }

    return end;
  }

  private addSentenceBytes(count: number): void {
    this.sentenceBytes += count;
    if (this.sentenceBytes > this.maxSentenceBytes) {
      throw new AgentError(
        'DEVICE_PROTOCOL_ERROR',
        `sentence of at least ${this.sentenceBytes} bytes exceeds the limit of ${this.maxSentenceBytes} bytes; raise maxSentenceBytes if such sentences are expected`,
        { details: { reason: 'sentence-too-large', limit: this.maxSentenceBytes } },
      );
    }
  }

  private endSentence(sentences: string[][]): void {
    if (this.words.length > 0) {
      sentences.push(this.words);
    }

    this.words = [];
    this.sentenceBytes = 0;
  }
}
