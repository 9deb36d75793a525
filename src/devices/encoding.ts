import iconv from 'iconv-lite';

import { AgentError } from '../errors.js';

/**
 * Conversion between the text the agent handles and the bytes a RouterOS device stores. RouterOS
 * has no character set, so every device is configured with the code page its administrators'
 * tools write (WinBox writes the PC's ANSI code page, often windows-1252 or windows-1251).
 * iconv-lite replaces a character the code page cannot hold with `?` without saying so; this
 * module checks every character first and rejects the script instead.
 */

/** The code page used when a device configures none. */
export const DEFAULT_CODE_PAGE = 'windows-1252';

/** Reports whether iconv-lite supports the code page `name`. */
export function isKnownCodePage(name: string): boolean {
  return iconv.encodingExists(name);
}

/**
 * Encodes `text` in `codePage`. Throws ENCODING_ERROR naming the first character the code page
 * cannot hold, with its 1-based line and column, before anything is sent to a device.
 */
export function encodeText(text: string, codePage: string, subject = 'script'): Buffer {
  requireKnownCodePage(codePage);

  // A text that survives the round trip as a whole has no character the code page lacks, so
  // the scan for the culprit, which costs far more, runs only for a text that does not.
  const bytes = iconv.encode(text, codePage);
  if (iconv.decode(bytes, codePage) === text) {
    return bytes;
  }

  const unencodable = findUnencodable(text, codePage);
  if (unencodable !== undefined) {
    const { character, line, column } = unencodable;
    const codePoint = `U+${character.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new AgentError(
      'ENCODING_ERROR',
      `${subject} line ${line} column ${column}: character "${character}" (${codePoint}) cannot be encoded in ${codePage}; remove it, or set the device's code page to one that contains it`,
      { details: { line, column, character, codePoint, codePage } },
    );
  }

  return bytes;
}

/** Decodes device bytes with `codePage`. */
export function decodeBytes(bytes: Buffer, codePage: string): string {
  requireKnownCodePage(codePage);
  return iconv.decode(bytes, codePage);
}

/**
 * Encodes `text` as a byte string: one latin1 character per byte, which is how the API layer
 * carries words so that every byte value reaches the wire unchanged.
 */
export function toByteString(text: string, codePage: string, subject?: string): string {
  return encodeText(text, codePage, subject).toString('latin1');
}

/** Decodes a byte string (one latin1 character per byte) with `codePage`. */
export function fromByteString(byteString: string, codePage: string): string {
  return decodeBytes(Buffer.from(byteString, 'latin1'), codePage);
}

type Unencodable = { character: string; line: number; column: number };

/**
 * Finds the first character that does not survive an encode and decode round trip. A cache per
 * code point keeps long scripts cheap, because scripts repeat few distinct characters.
 */
function findUnencodable(text: string, codePage: string): Unencodable | undefined {
  const verdicts = new Map<string, boolean>();
  let line = 1;
  let column = 1;
  let afterCarriageReturn = false;

  for (const character of text) {
    let encodable = verdicts.get(character);
    if (encodable === undefined) {
      encodable = iconv.decode(iconv.encode(character, codePage), codePage) === character;
      verdicts.set(character, encodable);
    }

    if (!encodable) {
      return { character, line, column };
    }

    // A line ends at LF, CRLF or a lone CR, as RouterOS reads scripts.
    if (character === '\n' && afterCarriageReturn) {
      column = 1;
    } else if (character === '\n' || character === '\r') {
      line++;
      column = 1;
    } else {
      column++;
    }

    afterCarriageReturn = character === '\r';
  }

  return undefined;
}

/** Code pages already found known; iconv-lite's own lookup normalizes the name on every call. */
const knownCodePages = new Set<string>();

function requireKnownCodePage(codePage: string): void {
  if (knownCodePages.has(codePage)) {
    return;
  }

  if (!iconv.encodingExists(codePage)) {
    throw new AgentError(
      'ENCODING_ERROR',
      `unknown code page "${codePage}"; use an iconv-lite encoding name such as windows-1252 or windows-1251`,
      { details: { codePage } },
    );
  }

  knownCodePages.add(codePage);
}
