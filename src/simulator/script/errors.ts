import type { ScriptPosition } from '../model/types.js';
import type { ScriptValue } from './values.js';

export type SyntaxErrorKind =
  | 'syntax error'
  | 'bad command name'
  | 'expected end of command'
  | 'expected command name';

/**
 * A script the device refuses to run. The message is the device's own text, such as
 * `bad command name foo (line 2 column 3)`; positions are 1-based.
 */
export class ScriptSyntaxError extends Error {
  readonly kind: SyntaxErrorKind;

  readonly position: ScriptPosition;

  constructor(kind: SyntaxErrorKind, position: ScriptPosition, word?: string) {
    const subject = word === undefined ? kind : `${kind} ${word}`;
    super(`${subject} (line ${position.line} column ${position.column})`);
    this.name = 'ScriptSyntaxError';
    this.kind = kind;
    this.position = position;
  }
}

/** Thrown by `:return` to unwind to the function or script that was called. */
export class ReturnSignal {
  readonly value: ScriptValue;

  constructor(value: ScriptValue) {
    this.value = value;
  }
}
