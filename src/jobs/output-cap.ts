/** Output as stored: the whole text, or its head and tail around an omission marker. */
export type CappedOutput = {
  text: string;
  /** True when `text` keeps only the head and the tail. */
  truncated: boolean;
  /** Size of the whole output in UTF-8 bytes. */
  totalBytes: number;
};

/** Room kept for the omission marker, larger than any marker `capOutput` writes. */
const MARKER_RESERVE_BYTES = 64;

/**
 * Caps `output` at `capBytes` UTF-8 bytes. Longer output keeps its first and last bytes in about
 * equal parts around a line that states how many bytes were left out, because a script's
 * first lines show what it did and its last lines show how it ended. Characters are never cut.
 */
export function capOutput(output: string, capBytes: number): CappedOutput {
  const bytes = Buffer.from(output, 'utf8');
  if (bytes.length <= capBytes) {
    return { text: output, truncated: false, totalBytes: bytes.length };
  }

  const budget = Math.max(0, capBytes - MARKER_RESERVE_BYTES);
  const headEnd = characterStart(bytes, Math.floor(budget / 2), -1);
  const tailStart = characterStart(bytes, bytes.length - (budget - headEnd), 1);
  const omitted = tailStart - headEnd;
  const marker = `\n[... ${omitted} bytes omitted ...]\n`;

  return {
    text: `${bytes.subarray(0, headEnd).toString('utf8')}${marker}${bytes.subarray(tailStart).toString('utf8')}`,
    truncated: true,
    totalBytes: bytes.length,
  };
}

/** Moves `index` in `direction` until it is at the first byte of a UTF-8 character. */
function characterStart(bytes: Buffer, index: number, direction: 1 | -1): number {
  let position = index;

  while (position > 0 && position < bytes.length && isContinuationByte(bytes[position] ?? 0)) {
    position += direction;
  }

  return position;
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
