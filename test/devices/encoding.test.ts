import { describe, expect, it } from 'vitest';

import {
  decodeBytes,
  encodeText,
  fromByteString,
  toByteString,
} from '../../src/devices/encoding.js';
import { AgentError } from '../../src/errors.js';

function encodingError(run: () => unknown): AgentError {
  try {
    run();
  } catch (error) {
    if (error instanceof AgentError) {
      return error;
    }

    throw error;
  }

  throw new Error('expected an ENCODING_ERROR');
}

describe('encodeText', () => {
  it('encodes ö as one windows-1252 byte', () => {
    expect(encodeText(':put "ö"', 'windows-1252')).toEqual(
      Buffer.from([...Buffer.from(':put "'), 0xf6, 0x22]),
    );
  });

  it('encodes € as byte 0x80 in windows-1252', () => {
    expect(encodeText('€', 'windows-1252')).toEqual(Buffer.from([0x80]));
  });

  it('encodes ж as byte 0xE6 in windows-1251', () => {
    expect(encodeText('ж', 'windows-1251')).toEqual(Buffer.from([0xe6]));
  });

  it('rejects ж in windows-1252', () => {
    const error = encodingError(() => encodeText('ж', 'windows-1252'));
    expect(error.code).toBe('ENCODING_ERROR');
  });

  it('names line and column of rejection', () => {
    const error = encodingError(() =>
      encodeText(':put "a"\r\n:put "b"\n\n  :put "жx"', 'windows-1252'),
    );
    expect(error.details).toMatchObject({ line: 4, column: 9, character: 'ж' });
  });

  it('counts a lone CR as a line end', () => {
    const error = encodingError(() => encodeText('a\rbж', 'windows-1252'));
    expect(error.details).toMatchObject({ line: 2, column: 2 });
  });

  it('counts astral characters as one column', () => {
    const error = encodingError(() => encodeText('😀ж', 'windows-1251'));
    expect(error.details).toMatchObject({ line: 1, column: 1, character: '😀' });
  });

  it('rejects an unknown code page', () => {
    const error = encodingError(() => encodeText('a', 'no-such-code-page'));
    expect(error.code).toBe('ENCODING_ERROR');
  });

  it('keeps a literal question mark', () => {
    expect(encodeText('?', 'windows-1252')).toEqual(Buffer.from('?'));
  });
});

describe('byte strings', () => {
  it('round-trips every windows-1251 letter', () => {
    const text = 'Съешь же ещё этих мягких французских булок';
    expect(fromByteString(toByteString(text, 'windows-1251'), 'windows-1251')).toBe(text);
  });

  it('carries one character per byte', () => {
    expect(toByteString('€ö', 'windows-1252')).toBe('\u0080\u00f6');
  });

  it('decodes device bytes with the code page', () => {
    expect(decodeBytes(Buffer.from([0xe6, 0x0d, 0x0a]), 'windows-1251')).toBe('ж\r\n');
  });
});
