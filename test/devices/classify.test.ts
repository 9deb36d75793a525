import { describe, expect, it } from 'vitest';

import { clampToScript, classifyErrorText, classifyOutput } from '../../src/devices/classify.js';

describe('classifyErrorText', () => {
  const cases: ReadonlyArray<[text: string, code: string, line?: number, column?: number]> = [
    ['syntax error (line 1 column 6)', 'SCRIPT_SYNTAX_ERROR', 1, 6],
    ['bad command name foo (line 2 column 3)', 'SCRIPT_SYNTAX_ERROR', 2, 3],
    ['expected end of command (line 4 column 12)', 'SCRIPT_SYNTAX_ERROR', 4, 12],
    ['expected command name (line 1 column 1)', 'SCRIPT_SYNTAX_ERROR', 1, 1],
    ['input does not match any value of interface', 'SCRIPT_FAILED'],
    ['failure: already have such name', 'SCRIPT_FAILED'],
    ['no such item', 'SCRIPT_FAILED'],
    ['no such item (line 3 column 1)', 'SCRIPT_FAILED', 3, 1],
    ['invalid value for argument address', 'SCRIPT_FAILED'],
    ['something new went wrong (line 7 column 2)', 'SCRIPT_FAILED', 7, 2],
  ];

  for (const [text, code, line, column] of cases) {
    it(`classifies "${text}"`, () => {
      const error = classifyErrorText(text);
      expect(error?.code).toBe(code);
      expect(error?.line).toBe(line);
      expect(error?.column).toBe(column);
    });
  }

  it('ignores ordinary output', () => {
    expect(classifyErrorText('hello world')).toBeUndefined();
  });
});

describe('classifyOutput', () => {
  it('reads the error from the last line', () => {
    const error = classifyOutput('first\r\nsecond\r\nfailure: duplicate\r\n\r\n');
    expect(error?.code).toBe('SCRIPT_FAILED');
  });

  it('ignores errors before the last line', () => {
    expect(classifyOutput('no such item\r\nrecovered\r\n')).toBeUndefined();
  });

  it('treats empty output as success', () => {
    expect(classifyOutput('')).toBeUndefined();
  });
});

describe('clampToScript', () => {
  const syntaxError = (line: number, column: number) => ({
    code: 'SCRIPT_SYNTAX_ERROR' as const,
    message: `syntax error (line ${line} column ${column})`,
    line,
    column,
  });

  it('moves a position past the end', () => {
    const clamped = clampToScript(syntaxError(4, 1), ':put "a"\r\n:put ("b"');

    expect(clamped.line).toBe(2);
    expect(clamped.column).toBe(10);
  });

  it('ignores a final line break', () => {
    const clamped = clampToScript(syntaxError(3, 1), ':put "a"\n:put ("b"\n');

    expect(clamped.line).toBe(2);
    expect(clamped.column).toBe(10);
  });

  it('keeps a position inside the script', () => {
    const clamped = clampToScript(syntaxError(2, 6), ':put "a"\n:put ("b"\n');

    expect(clamped.line).toBe(2);
    expect(clamped.column).toBe(6);
  });
});
