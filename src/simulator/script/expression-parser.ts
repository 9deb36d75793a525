import type { BinaryOperator, Block, Expression } from './ast.js';
import type { CommandCatalog, MenuHandle } from './catalog.js';
import { Scanner } from './scanner.js';
import { NOTHING, str } from './values.js';

/** Characters that start a value term other than a bare word. */
const TERM_START = new Set(['"', '$', '[', '(', '{']);

/** Characters that end a bare value word in command arguments. */
const VALUE_WORD_STOP = new Set([
  ' ',
  '\t',
  '\r',
  '\n',
  ';',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '"',
  '$',
]);

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  $: '$',
  '?': '?',
  n: '\n',
  r: '\r',
  t: '\t',
  _: ' ',
  a: '\x07',
  b: '\x08',
  f: '\x0c',
  v: '\x0b',
};

/** Binding strength of each binary operator; higher binds tighter. */
const PRECEDENCE: Readonly<Record<BinaryOperator, number>> = {
  ',': 1,
  '||': 2,
  '&&': 3,
  '|': 4,
  '^': 5,
  '&': 6,
  '=': 7,
  '!=': 7,
  '~': 7,
  in: 7,
  '<': 8,
  '>': 8,
  '<=': 8,
  '>=': 8,
  '<<': 9,
  '>>': 9,
  '.': 10,
  '+': 11,
  '-': 11,
  '*': 12,
  '/': 12,
  '%': 12,
};

const SYMBOL_OPERATORS: readonly BinaryOperator[] = [
  '&&',
  '||',
  '!=',
  '<=',
  '>=',
  '<<',
  '>>',
  '<',
  '>',
  '=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '.',
  ',',
  '~',
  '&',
  '|',
  '^',
];

const WORD_OPERATORS: Readonly<Record<string, BinaryOperator>> = { and: '&&', or: '||', in: 'in' };

const LITERAL_FORMS = [
  /[0-9]{1,3}(?:\.[0-9]{1,3}){3}\/[0-9]{1,2}/y,
  /[0-9]{1,3}(?:\.[0-9]{1,3}){3}/y,
  /(?:[0-9]+w)?(?:[0-9]+d)?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?/y,
  /(?:[0-9]+(?:w|d|h|ms|us|ns|m|s))+/y,
  /0x[0-9a-fA-F]+/y,
  /[0-9]+/y,
];

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_-]*/y;
const WORD_TAIL = /[A-Za-z0-9_-]*/y;
const VARIABLE_NAME = /[A-Za-z0-9_]+/y;

/** Where an expression ends: at `)` inside parentheses, at the end of the command for `where`. */
type ExpressionMode = 'group' | 'where';

/**
 * Parses the value parts of a script: strings with escapes and `$` substitution, variables,
 * `[ ]` command substitution, `{ }` arrays and code, and operator expressions.
 */
export abstract class TermParser {
  protected readonly scanner: Scanner;

  protected readonly catalog: CommandCatalog;

  constructor(source: string, catalog: CommandCatalog) {
    this.scanner = new Scanner(source);
    this.catalog = catalog;
  }

  /** Parses statements up to the closing `end` character, which it consumes. */
  protected abstract parseBlockUntil(end: ']' | '}', menu: MenuHandle): Block;

  protected isTermStart(char: string): boolean {
    return TERM_START.has(char);
  }

  /** Parses one argument value: a term, and more terms written right after it are joined. */
  protected parseValue(menu: MenuHandle, code: boolean): Expression {
    const parts = [this.parseTerm(menu, code)];
    for (;;) {
      const next = this.scanner.peek();
      const continues = next !== '{' && (this.isTermStart(next) || !VALUE_WORD_STOP.has(next));
      if (this.scanner.atEnd() || !continues) {
        break;
      }

      parts.push(this.parseTerm(menu, false));
    }

    return parts.length === 1 && parts[0] !== undefined ? parts[0] : { kind: 'concat', parts };
  }

  private parseTerm(menu: MenuHandle, code: boolean): Expression {
    const { scanner } = this;
    switch (scanner.peek()) {
      case '"':
        return this.parseString(menu);
      case '$':
        return this.parseVariable();
      case '[':
        scanner.index += 1;
        return { kind: 'substitution', block: this.parseBlockUntil(']', menu) };
      case '(':
        return this.parseGroup(menu);
      case '{':
        return code ? this.parseCode(menu) : this.parseArray(menu);
      default:
        return this.parseValueWord();
    }
  }

  private parseValueWord(): Expression {
    const { scanner } = this;
    const start = scanner.index;
    while (!scanner.atEnd() && !VALUE_WORD_STOP.has(scanner.peek())) {
      scanner.index += 1;
    }

    if (scanner.index === start) {
      scanner.fail('syntax error');
    }

    return {
      kind: 'word',
      text: scanner.source.slice(start, scanner.index),
      position: scanner.position(start),
    };
  }

  protected parseCode(menu: MenuHandle): Expression {
    const start = this.scanner.index;
    this.scanner.index += 1;
    const block = this.parseBlockUntil('}', menu);
    return {
      kind: 'code',
      block,
      source: this.scanner.source.slice(start + 1, this.scanner.index - 1),
    };
  }

  private parseArray(menu: MenuHandle): Expression {
    const { scanner } = this;
    scanner.index += 1;
    const entries: Array<{ key: string | undefined; value: Expression }> = [];
    for (;;) {
      scanner.skipBlanksAndNewlines();
      if (scanner.peek() === '}') {
        scanner.index += 1;
        return { kind: 'array', entries };
      }

      entries.push(this.parseArrayEntry(menu));
      scanner.skipBlanksAndNewlines();
      const next = scanner.peek();
      if (next === ';') {
        scanner.index += 1;
      } else if (next !== '}') {
        scanner.fail('syntax error');
      }
    }
  }

  private parseArrayEntry(menu: MenuHandle): { key: string | undefined; value: Expression } {
    const { scanner } = this;
    const start = scanner.index;
    let key: string | undefined;
    if (scanner.peek() === '"') {
      const quoted = this.parseString(menu);
      if (scanner.peek() !== '=') {
        return { key: undefined, value: quoted };
      }

      key = quoted.kind === 'value' && quoted.value.type === 'str' ? quoted.value.value : undefined;
    } else if (!this.isTermStart(scanner.peek())) {
      while (!scanner.atEnd() && !VALUE_WORD_STOP.has(scanner.peek()) && scanner.peek() !== '=') {
        scanner.index += 1;
      }

      key = scanner.peek() === '=' ? scanner.source.slice(start, scanner.index) : undefined;
      if (key === undefined) {
        scanner.index = start;
      }
    }

    if (key === undefined || key === '') {
      if (scanner.peek() === '=') {
        scanner.fail('syntax error');
      }

      return { key: undefined, value: this.parseValue(menu, false) };
    }

    scanner.index += 1;
    const atEnd = scanner.peek() === ';' || scanner.peek() === '}';
    return { key, value: atEnd ? { kind: 'value', value: str('') } : this.parseValue(menu, false) };
  }

  protected parseVariable(): Expression {
    const { scanner } = this;
    const start = scanner.index;
    scanner.index += 1;
    if (scanner.peek() === '"') {
      const name = this.readQuotedText();
      return { kind: 'variable', name, position: scanner.position(start) };
    }

    VARIABLE_NAME.lastIndex = scanner.index;
    const match = VARIABLE_NAME.exec(scanner.source);
    if (match === null) {
      return scanner.fail('syntax error');
    }

    scanner.index += match[0].length;
    return { kind: 'variable', name: match[0], position: scanner.position(start) };
  }

  /** Reads a quoted string without `$` substitution, as in `$"name"`. */
  private readQuotedText(): string {
    const parsed = this.parseString(this.catalog.root, false);
    if (parsed.kind === 'value' && parsed.value.type === 'str') {
      return parsed.value.value;
    }

    return '';
  }

  /** Parses `"..."`, resolving escapes and, unless `substitute` is false, `$` substitutions. */
  protected parseString(menu: MenuHandle, substitute = true): Expression {
    const { scanner } = this;
    scanner.index += 1;
    const parts: Array<string | Expression> = [];
    let text = '';
    for (;;) {
      if (scanner.atEnd()) {
        scanner.fail('syntax error');
      }

      const char = scanner.peek();
      if (char === '"') {
        scanner.index += 1;
        break;
      }

      if (char === '\\') {
        text += this.readEscape();
        continue;
      }

      if (char === '$' && substitute && this.startsSubstitution(scanner.peek(1))) {
        if (text !== '') {
          parts.push(text);
          text = '';
        }

        parts.push(this.parseSubstitutionInString(menu));
        continue;
      }

      text += char;
      scanner.index += 1;
    }

    if (parts.length === 0) {
      return { kind: 'value', value: str(text) };
    }

    if (text !== '') {
      parts.push(text);
    }

    return { kind: 'interpolated', parts };
  }

  /**
   * Reports whether `$` followed by `next` substitutes inside a string. A `$` before the closing
   * quote stays literal, so `"^ab$"` is the pattern it looks like.
   */
  private startsSubstitution(next: string): boolean {
    return next === '[' || next === '(' || /[A-Za-z0-9_]/.test(next);
  }

  private parseSubstitutionInString(menu: MenuHandle): Expression {
    const { scanner } = this;
    const next = scanner.peek(1);
    if (next === '[') {
      scanner.index += 2;
      return { kind: 'substitution', block: this.parseBlockUntil(']', menu) };
    }

    if (next === '(') {
      scanner.index += 1;
      return this.parseGroup(menu);
    }

    return this.parseVariable();
  }

  private readEscape(): string {
    const { scanner } = this;
    const start = scanner.index;
    const next = scanner.peek(1);
    const newline = scanner.newlineLength(start + 1);
    if (newline > 0) {
      scanner.index += 1 + newline;
      while (scanner.peek() === ' ' || scanner.peek() === '\t') {
        scanner.index += 1;
      }

      return '';
    }

    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      scanner.index += 2;
      return simple;
    }

    const hex = scanner.source.slice(start + 1, start + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      scanner.index += 3;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }

    return scanner.fail('syntax error', start);
  }

  /** Parses `( expression )`; the scanner is at `(`. */
  protected parseGroup(menu: MenuHandle): Expression {
    const { scanner } = this;
    scanner.index += 1;
    scanner.skipBlanksAndNewlines();
    if (scanner.peek() === ')') {
      scanner.index += 1;
      return { kind: 'value', value: NOTHING };
    }

    const expression = this.parseBinary(menu, 'group', 0);
    scanner.skipBlanksAndNewlines();
    if (scanner.peek() !== ')') {
      scanner.fail('syntax error');
    }

    scanner.index += 1;
    return expression;
  }

  /** Parses the condition after `where`, up to the end of the command. */
  protected parseWhere(menu: MenuHandle): Expression {
    return this.parseBinary(menu, 'where', 0);
  }

  private skipExpressionBlanks(mode: ExpressionMode): void {
    if (mode === 'group') {
      this.scanner.skipBlanksAndNewlines();
    } else {
      this.scanner.skipBlanks();
    }
  }

  private parseBinary(menu: MenuHandle, mode: ExpressionMode, minimum: number): Expression {
    let left = this.parseUnary(menu, mode);
    for (;;) {
      this.skipExpressionBlanks(mode);
      const start = this.scanner.index;
      const operator = this.readOperator();
      if (operator === undefined) {
        return left;
      }

      const precedence = PRECEDENCE[operator];
      if (precedence <= minimum) {
        this.scanner.index = start;
        return left;
      }

      const right = this.parseBinary(menu, mode, precedence);
      left = { kind: 'binary', operator, left, right, position: this.scanner.position(start) };
    }
  }

  private readOperator(): BinaryOperator | undefined {
    const { scanner } = this;
    const source = scanner.source;
    for (const symbol of SYMBOL_OPERATORS) {
      if (source.startsWith(symbol, scanner.index) && !source.startsWith('->', scanner.index)) {
        scanner.index += symbol.length;
        return symbol;
      }
    }

    IDENTIFIER.lastIndex = scanner.index;
    const word = IDENTIFIER.exec(source)?.[0];
    const operator = word === undefined ? undefined : WORD_OPERATORS[word];
    if (word !== undefined && operator !== undefined) {
      scanner.index += word.length;
    }

    return operator;
  }

  private parseUnary(menu: MenuHandle, mode: ExpressionMode): Expression {
    const { scanner } = this;
    this.skipExpressionBlanks(mode);
    const char = scanner.peek();
    if (char === '!' || char === '-' || char === '~') {
      scanner.index += 1;
      return { kind: 'unary', operator: char, operand: this.parseUnary(menu, mode) };
    }

    if (scanner.source.startsWith('not', scanner.index) && !/[A-Za-z0-9_-]/.test(scanner.peek(3))) {
      scanner.index += 3;
      return { kind: 'unary', operator: '!', operand: this.parseUnary(menu, mode) };
    }

    return this.parsePostfix(menu, this.parsePrimary(menu, mode));
  }

  private parsePostfix(menu: MenuHandle, target: Expression): Expression {
    const { scanner } = this;
    let result = target;
    while (scanner.source.startsWith('->', scanner.index)) {
      scanner.index += 2;
      result = { kind: 'index', target: result, key: this.parsePrimary(menu, 'group') };
    }

    return result;
  }

  private parsePrimary(menu: MenuHandle, mode: ExpressionMode): Expression {
    const { scanner } = this;
    const char = scanner.peek();
    if (char === '(') {
      return this.parseGroup(menu);
    }

    if (char === '"' || char === '$' || char === '[' || char === '{') {
      return this.parseTerm(menu, false);
    }

    const start = scanner.index;
    const text = this.readLiteralWord();
    if (text === undefined) {
      return scanner.fail('syntax error');
    }

    if (mode === 'where' && text === '') {
      return scanner.fail('syntax error');
    }

    return { kind: 'word', text, position: scanner.position(start) };
  }

  /** Reads a number, address, prefix, time, id or identifier at the scanner. */
  private readLiteralWord(): string | undefined {
    const { scanner } = this;
    const source = scanner.source;
    const char = scanner.peek();
    if (char === '*' && /[0-9A-Fa-f]/.test(scanner.peek(1))) {
      const match = /\*[0-9A-Fa-f]+/y;
      match.lastIndex = scanner.index;
      const text = match.exec(source)?.[0] ?? '';
      scanner.index += text.length;
      return text;
    }

    if (/[0-9]/.test(char)) {
      let longest = '';
      for (const form of LITERAL_FORMS) {
        form.lastIndex = scanner.index;
        const text = form.exec(source)?.[0] ?? '';
        if (text.length > longest.length) {
          longest = text;
        }
      }

      scanner.index += longest.length;
      if (/[A-Za-z_]/.test(scanner.peek())) {
        WORD_TAIL.lastIndex = scanner.index;
        const tail = WORD_TAIL.exec(source)?.[0] ?? '';
        scanner.index += tail.length;
        return longest + tail;
      }

      return longest;
    }

    IDENTIFIER.lastIndex = scanner.index;
    const identifier = IDENTIFIER.exec(source)?.[0];
    if (identifier === undefined) {
      return undefined;
    }

    scanner.index += identifier.length;
    return identifier;
  }
}
