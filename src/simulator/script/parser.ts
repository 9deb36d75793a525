import type {
  Block,
  CommandArguments,
  CommandCall,
  Expression,
  NamedArgument,
  Statement,
} from './ast.js';
import {
  type CommandCatalog,
  type CommandSignature,
  type MenuHandle,
  signature,
} from './catalog.js';
import { TermParser } from './expression-parser.js';

/** Characters of a menu or command name; `/` is read too so RouterOS 6 can reject it. */
const NAME_CHAR = /[A-Za-z0-9_.\-/]/;

/** Characters that end an argument name or a bare argument word. */
const ARGUMENT_STOP = new Set([
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
  '=',
]);

/** A `$function` call takes any arguments; named ones become variables inside it. */
const FUNCTION_CALL = signature({
  named: 'any',
  positional: Array.from({ length: 32 }, (_, i) => `${i + 1}`),
});

type ParsedStatement =
  | { kind: 'statement'; statement: Statement; menu: MenuHandle }
  | { kind: 'menu'; menu: MenuHandle };

/**
 * Parses RouterOS script text against a device's command catalog. The whole text is parsed
 * before anything runs, so every syntax error, unknown command and unknown argument is found
 * up front, as the device does.
 */
class Parser extends TermParser {
  parseScript(): Block {
    return this.parseStatements(undefined, this.catalog.root);
  }

  protected parseBlockUntil(end: ']' | '}', menu: MenuHandle): Block {
    return this.parseStatements(end, menu);
  }

  private parseStatements(end: ']' | '}' | undefined, menu: MenuHandle): Block {
    const { scanner } = this;
    const statements: Statement[] = [];
    let blockMenu = menu;
    let lineMenu = menu;
    for (;;) {
      scanner.skipBlanks();
      if (scanner.atEnd()) {
        if (end !== undefined) {
          scanner.fail('syntax error');
        }

        return { statements };
      }

      const char = scanner.peek();
      if (char === end) {
        scanner.index += 1;
        return { statements };
      }

      const newline = scanner.newlineLength();
      if (newline > 0) {
        scanner.index += newline;
        lineMenu = blockMenu;
        continue;
      }

      if (char === ';') {
        scanner.index += 1;
        continue;
      }

      if (char === '#') {
        scanner.skipComment();
        continue;
      }

      if (char === ']' || char === '}' || char === ')') {
        scanner.fail('syntax error');
      }

      const parsed = this.parseStatement(lineMenu);
      if (parsed.kind === 'menu') {
        blockMenu = parsed.menu;
        lineMenu = parsed.menu;
      } else {
        statements.push(parsed.statement);
        lineMenu = parsed.menu;
      }
    }
  }

  private atStatementEnd(): boolean {
    const { scanner } = this;
    const char = scanner.peek();
    return scanner.atEnd() || scanner.atNewline() || char === ';' || char === ']' || char === '}';
  }

  private parseStatement(menu: MenuHandle): ParsedStatement {
    const { scanner } = this;
    const start = scanner.index;
    const position = scanner.position(start);
    const char = scanner.peek();
    if (char === '{') {
      scanner.index += 1;
      const block = this.parseBlockUntil('}', menu);
      return { kind: 'statement', statement: { kind: 'block', position, block }, menu };
    }

    if (char === ':') {
      return { kind: 'statement', statement: this.parseGlobalCommand(menu), menu };
    }

    if (char === '$') {
      const callee = this.parseVariable();
      const args = this.parseArguments(FUNCTION_CALL, menu);
      const call: CommandCall = { target: 'function', callee, position, args };
      return { kind: 'statement', statement: { kind: 'command', position, call }, menu };
    }

    return this.parsePathStatement(menu);
  }

  private parseGlobalCommand(menu: MenuHandle): Statement {
    const { scanner } = this;
    const position = scanner.position();
    scanner.index += 1;
    const nameStart = scanner.index;
    const name = this.readName();
    if (name === '') {
      scanner.fail('expected command name', nameStart);
    }

    const found = this.catalog.global(name);
    if (found === undefined) {
      return scanner.fail('bad command name', nameStart, name);
    }

    const args = this.parseArguments(found, menu);
    const call: CommandCall = { target: 'global', name, position, args };
    return { kind: 'command', position, call };
  }

  private parsePathStatement(menu: MenuHandle): ParsedStatement {
    const { scanner } = this;
    const position = scanner.position();
    let current = menu;
    let usedPath = false;
    if (scanner.peek() === '/') {
      scanner.index += 1;
      current = this.catalog.root;
      usedPath = true;
    }

    for (;;) {
      scanner.skipBlanks();
      if (usedPath && this.atStatementEnd()) {
        return { kind: 'menu', menu: current };
      }

      const wordStart = scanner.index;
      const word = this.readName();
      if (word === '') {
        scanner.fail('expected command name');
      }

      const segments = this.splitPath(word, wordStart);
      for (const [index, segment] of segments.entries()) {
        const segmentStart = wordStart + segment.offset;
        const name = segment.name;
        if (name === '..') {
          current = this.catalog.parent(current);
          continue;
        }

        const child = this.catalog.child(current, name);
        if (child !== undefined) {
          current = child;
          continue;
        }

        const last = index === segments.length - 1;
        const command = last ? this.catalog.command(current, name) : undefined;
        if (command !== undefined) {
          return this.finishCommand({ target: 'menu', menu: current, name }, command, position);
        }

        const global = last && !usedPath ? this.catalog.global(name) : undefined;
        if (global !== undefined) {
          return this.finishCommand({ target: 'global', name }, global, position, current);
        }

        scanner.fail('bad command name', segmentStart, name);
      }

      usedPath = true;
    }
  }

  private finishCommand(
    target: { target: 'menu'; menu: MenuHandle; name: string } | { target: 'global'; name: string },
    found: CommandSignature,
    position: Statement['position'],
    menu = target.target === 'menu' ? target.menu : this.catalog.root,
  ): ParsedStatement {
    const args = this.parseArguments(found, menu);
    const call: CommandCall = { ...target, position, args };
    return { kind: 'statement', statement: { kind: 'command', position, call }, menu };
  }

  /**
   * Splits `ip/address/print` at slashes on RouterOS 7. RouterOS 6 keeps the whole word, which
   * then fails as an unknown command.
   */
  private splitPath(word: string, start: number): Array<{ name: string; offset: number }> {
    if (!this.catalog.slashPaths || !word.includes('/')) {
      return [{ name: word, offset: 0 }];
    }

    const segments: Array<{ name: string; offset: number }> = [];
    let offset = 0;
    for (const name of word.split('/')) {
      if (name !== '') {
        segments.push({ name, offset });
      }

      offset += name.length + 1;
    }

    if (segments.length === 0) {
      this.scanner.fail('expected command name', start);
    }

    return segments;
  }

  private readName(): string {
    const { scanner } = this;
    const start = scanner.index;
    while (NAME_CHAR.test(scanner.peek())) {
      scanner.index += 1;
    }

    return scanner.source.slice(start, scanner.index);
  }

  private parseArguments(found: CommandSignature, menu: MenuHandle): CommandArguments {
    const { scanner } = this;
    const positional: Expression[] = [];
    const named: NamedArgument[] = [];
    let where: Expression | undefined;
    for (;;) {
      scanner.skipBlanks();
      if (this.atStatementEnd()) {
        break;
      }

      const start = scanner.index;
      if (where !== undefined) {
        scanner.fail('expected end of command', start);
      }

      if (scanner.peek() === ')') {
        scanner.fail('syntax error');
      }

      if (this.isTermStart(scanner.peek())) {
        positional.push(this.parsePositional(found, positional.length, menu, start));
        continue;
      }

      const word = this.readArgumentWord();
      if (word === '') {
        scanner.fail('syntax error');
      }

      if (scanner.peek() === '=') {
        named.push(this.parseNamed(found, word, menu, start));
      } else if (word === 'where' && found.where) {
        where = this.parseWhere(menu);
      } else if (found.flags.has(word)) {
        named.push({ name: word, value: undefined, position: scanner.position(start) });
      } else {
        scanner.index = start;
        positional.push(this.parsePositional(found, positional.length, menu, start));
      }
    }

    return { positional, named, where };
  }

  private parsePositional(
    found: CommandSignature,
    count: number,
    menu: MenuHandle,
    start: number,
  ): Expression {
    const name = found.positional[count];
    if (name === undefined) {
      this.scanner.fail('expected end of command', start);
    }

    return this.parseValue(menu, found.code.has(name));
  }

  private parseNamed(
    found: CommandSignature,
    name: string,
    menu: MenuHandle,
    start: number,
  ): NamedArgument {
    const { scanner } = this;
    if (found.named !== 'any' && !found.named.has(name)) {
      scanner.fail('expected end of command', start);
    }

    scanner.index += 1;
    const position = scanner.position(start);
    const empty = this.atStatementEnd() || scanner.peek() === ' ' || scanner.peek() === '\t';
    if (empty) {
      return { name, value: { kind: 'value', value: { type: 'str', value: '' } }, position };
    }

    return { name, value: this.parseValue(menu, found.code.has(name)), position };
  }

  private readArgumentWord(): string {
    const { scanner } = this;
    const start = scanner.index;
    while (!scanner.atEnd() && !ARGUMENT_STOP.has(scanner.peek())) {
      scanner.index += 1;
    }

    return scanner.source.slice(start, scanner.index);
  }
}

/** Scripts longer than this are parsed every time rather than kept. */
const MAX_CACHED_SOURCE_LENGTH = 64 * 1024;

/** Maximum parsed scripts kept per catalog. Past it, the least recently used one is dropped. */
const MAX_CACHED_SCRIPTS = 64;

/**
 * Parsed scripts by catalog and source text, in use order, the least recently used first. A
 * fleet runs the same few scripts on many devices, and a parse costs about 50 µs, by estimate a
 * tenth of the simulator's CPU per API run. The syntax tree is read-only, so devices share it.
 */
const parsedScripts = new WeakMap<CommandCatalog, Map<string, Block>>();

/** Parses script text for a device, or throws ScriptSyntaxError with the device's message. */
export function parseScript(source: string, catalog: CommandCatalog): Block {
  if (source.length > MAX_CACHED_SOURCE_LENGTH) {
    return new Parser(source, catalog).parseScript();
  }

  let cache = parsedScripts.get(catalog);
  if (cache === undefined) {
    cache = new Map();
    parsedScripts.set(catalog, cache);
  }

  const cached = cache.get(source);
  if (cached !== undefined) {
    cache.delete(source);
    cache.set(source, cached);
    return cached;
  }

  const block = new Parser(source, catalog).parseScript();
  cache.set(source, block);
  if (cache.size > MAX_CACHED_SCRIPTS) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) {
      cache.delete(oldest);
    }
  }

  return block;
}
