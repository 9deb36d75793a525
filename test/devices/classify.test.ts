import { describe, expect, it } from 'vitest';

import { classifyErrorText, classifyOutput } from '../../src/devices/classify.js';

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
