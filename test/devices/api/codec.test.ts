import { describe, expect, it } from 'vitest';
import {
  decodeLength,
  encodeLength,
  encodeSentence,
  encodeWord,
  SentenceDecoder,
} from '../../../src/devices/api/codec.js';
import { isAgentError } from '../../../src/errors.js';

/** Length prefixes at each form boundary, as the RouterOS API documents them. */
const BOUNDARIES: ReadonlyArray<readonly [length: number, prefix: string]> = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '8080'],
  [16383, 'bfff'],
  [16384, 'c04000'],
  [2097151, 'dfffff'],
  [2097152, 'e0200000'],
  [268435455, 'efffffff'],
  [268435456, 'f010000000'],
  [4294967295, 'f0ffffffff'],
];

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isAgentError(error) ? error.code : 'not an AgentError';
  }

  return undefined;
}

describe('encodeLength', () => {
  it.each(BOUNDARIES)('encodes %i as %s', (length, prefix) => {
    expect(encodeLength(length).toString('hex')).toBe(prefix);
  });

  it.each([-1, 1.5, 2 ** 32])('rejects length %d', (length) => {
    expect(thrownCode(() => encodeLength(length))).toBe('ENCODING_ERROR');
  });
});

describe('decodeLength', () => {
  it.each(BOUNDARIES)('decodes %i from %s', (length, prefix) => {
    const bytes = Buffer.from(prefix, 'hex');

    expect(decodeLength(bytes)).toEqual({ length, prefixSize: bytes.length });
  });

  it('returns undefined for a partial prefix', () => {
    expect(decodeLength(Buffer.from('e02000', 'hex'))).toBeUndefined();
  });

  it('reads a prefix at an offset', () => {
    expect(decodeLength(Buffer.from('ff8080', 'hex'), 1)).toEqual({ length: 128, prefixSize: 2 });
  });

  it.each([0xf8, 0xf9, 0xfe, 0xff])('rejects reserved byte %i', (byte) => {
    expect(thrownCode(() => decodeLength(Buffer.from([byte, 0, 0, 0, 0])))).toBe(
      'DEVICE_PROTOCOL_ERROR',
    );
  });
});

describe('encodeWord', () => {
  it('keeps every byte value', () => {
    const word = String.fromCharCode(...Array.from({ length: 256 }, (_, index) => index));
    const encoded = encodeWord(word);

    expect(encoded.subarray(0, 2).toString('hex')).toBe('8100');
    expect([...encoded.subarray(2)]).toEqual(Array.from({ length: 256 }, (_, index) => index));
  });

  it.each([127, 128, 16383, 16384, 2097151, 2097152])('round-trips a %i byte word', (length) => {
    const word = 'x'.repeat(length);
    const decoder = new SentenceDecoder({ maxWordBytes: 4 * 1024 * 1024 });

    const sentences = decoder.push(encodeSentence([word]));

    expect(sentences).toHaveLength(1);
    expect(sentences[0]?.[0]?.length).toBe(length);
  });
});

describe('SentenceDecoder', () => {
  const words = ['/ip/address/add', '=address=192.0.2.1/24', '=comment=caf\xe9', '.tag=7', '='];
  const stream = Buffer.concat([encodeSentence(words), encodeSentence(['/quit'])]);

  it('decodes two sentences in one chunk', () => {
    const decoder = new SentenceDecoder();

    expect(decoder.push(stream)).toEqual([words, ['/quit']]);
  });

  it('decodes a stream cut at every byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new SentenceDecoder();
      const sentences = [
        ...decoder.push(stream.subarray(0, cut)),
        ...decoder.push(stream.subarray(cut)),
      ];

      expect(sentences, `cut at ${cut}`).toEqual([words, ['/quit']]);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const decoder = new SentenceDecoder();
    const sentences: string[][] = [];
    for (const byte of stream) {
      sentences.push(...decoder.push(Buffer.from([byte])));
    }

    expect(sentences).toEqual([words, ['/quit']]);
  });

  it('decodes prefixes cut inside every form', () => {
    for (const length of [128, 16384, 2097152]) {
      const encoded = encodeSentence(['y'.repeat(length)]);
      for (let cut = 1; cut < 5; cut++) {
        const decoder = new SentenceDecoder({ maxWordBytes: 4 * 1024 * 1024 });
        const sentences = [
          ...decoder.push(encoded.subarray(0, cut)),
          ...decoder.push(encoded.subarray(cut)),
        ];

        expect(sentences[0]?.[0]?.length, `length ${length} cut at ${cut}`).toBe(length);
      }
    }
  });

  it('ignores empty sentences', () => {
    const decoder = new SentenceDecoder();

    expect(decoder.push(Buffer.from([0, 0, ...encodeSentence(['/quit']), 0]))).toEqual([['/quit']]);
  });

  it('rejects a reserved control byte', () => {
    const decoder = new SentenceDecoder();

    expect(
      thrownCode(() => decoder.push(Buffer.from([0x05, 0x2f, 0x71, 0x75, 0x69, 0x74, 0xf8]))),
    ).toBe('DEVICE_PROTOCOL_ERROR');
  });

  it('keeps failing after a reserved byte', () => {
    const decoder = new SentenceDecoder();
    thrownCode(() => decoder.push(Buffer.from([0xff])));

    expect(thrownCode(() => decoder.push(encodeSentence(['/quit'])))).toBe('DEVICE_PROTOCOL_ERROR');
  });

  it('rejects a word over the limit', () => {
    const decoder = new SentenceDecoder({ maxWordBytes: 100 });

    expect(thrownCode(() => decoder.push(encodeLength(101)))).toBe('DEVICE_PROTOCOL_ERROR');
  });

  it('rejects a sentence over the limit', () => {
    const decoder = new SentenceDecoder({ maxSentenceBytes: 50 });

    expect(thrownCode(() => decoder.push(encodeSentence(['a'.repeat(30), 'b'.repeat(30)])))).toBe(
      'DEVICE_PROTOCOL_ERROR',
    );
  });

  it('accepts a word at the limit', () => {
    const decoder = new SentenceDecoder({ maxWordBytes: 100, maxSentenceBytes: 102 });

    expect(decoder.push(encodeSentence(['z'.repeat(100)]))).toHaveLength(1);
  });

  it('streams a 268435456 byte word', () => {
    const length = 268435456;
    const decoder = new SentenceDecoder({
      maxWordBytes: length,
      maxSentenceBytes: length + 6,
    });
    const piece = Buffer.alloc(1024 * 1024, 0x61);
    const sentences: string[][] = [];

    sentences.push(...decoder.push(encodeLength(length)));
    for (let sent = 0; sent < length; sent += piece.length) {
      sentences.push(...decoder.push(piece));
    }
    sentences.push(...decoder.push(Buffer.from([0])));

    const word = sentences[0]?.[0] ?? '';
    expect(sentences).toHaveLength(1);
    expect(word.length).toBe(length);
    expect(word.charCodeAt(length - 1)).toBe(0x61);
  });
});
