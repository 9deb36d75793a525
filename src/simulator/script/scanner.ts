import type { ScriptPosition } from '../model/types.js';
import { ScriptSyntaxError, type SyntaxErrorKind } from './errors.js';

/**
 * Character-level reading of script text: positions, blanks, line continuations and line ends.
 * LF, CRLF and a lone CR all end a line; a backslash right before a line end joins the lines.
 */
export class Scanner {
  readonly source: string;

  /** Current offset into `source`; only moves forward except when a caller rewinds it. */
  index = 0;

  /** Offset where each line starts, ascending; line N (1-based) starts at `lineStarts[N - 1]`. */
  private readonly lineStarts: number[] = [0];

  constructor(source: string) {
    this.source = source;
    for (let i = 0; i < source.length; i += 1) {
      const code = source.charCodeAt(i);
      if (code === 10) {
        this.lineStarts.push(i + 1);
      } else if (code === 13) {
        const crlf = source.charCodeAt(i + 1) === 10;
        this.lineStarts.push(i + (crlf ? 2 : 1));
        if (crlf) {
          i += 1;
        }
      }
    }
  }

  position(index = this.index): ScriptPosition {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.lineStarts[middle] ?? 0) <= index) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }

    return { line: low + 1, column: index - (this.lineStarts[low] ?? 0) + 1 };
  }

  peek(offset = 0): string {
    return this.source.charAt(this.index + offset);
  }

  atEnd(): boolean {
    return this.index >= this.source.length;
  }

  /** Length of the line end at `index` (2 for CRLF, 1 for LF or CR), or 0. */
  newlineLength(index = this.index): number {
    const code = this.source.charCodeAt(index);
    if (code === 10) {
      return 1;
    }

    if (code === 13) {
      return this.source.charCodeAt(index + 1) === 10 ? 2 : 1;
    }

    return 0;
  }

  atNewline(): boolean {
    return this.newlineLength() > 0;
  }

  /** Skips spaces, tabs and backslash line continuations, but not line ends. */
  skipBlanks(): void {
    for (;;) {
      const char = this.peek();
      if (char === ' ' || char === '\t') {
        this.index += 1;
        continue;
      }

      if (char === '\\') {
        const length = this.newlineLength(this.index + 1);
        if (length > 0) {
          this.index += 1 + length;
          continue;
        }
      }

      return;
    }
  }

  /** Skips blanks and line ends, for places where a line end is not a separator. */
  skipBlanksAndNewlines(): void {
    for (;;) {
      this.skipBlanks();
      const length = this.newlineLength();
      if (length === 0) {
        return;
      }

      this.index += length;
    }
  }

  /** Skips a `#` comment up to (not including) the line end. */
  skipComment(): void {
    while (!this.atEnd() && !this.atNewline()) {
      this.index += 1;
    }
  }

  fail(kind: SyntaxErrorKind, index = this.index, word?: string): never {
    throw new ScriptSyntaxError(kind, this.position(index), word);
  }
}
