import { describe, expect, test } from 'vitest';
import { catalogFor } from '../../../src/simulator/model/command-catalog.js';
import { parseVersion } from '../../../src/simulator/model/version.js';
import { ScriptSyntaxError } from '../../../src/simulator/script/errors.js';
import { parseScript } from '../../../src/simulator/script/parser.js';

const v7 = catalogFor(parseVersion('7.17.2'));
const v6 = catalogFor(parseVersion('6.49.10'));

function syntaxMessage(source: string, catalog = v7): string | undefined {
  try {
    parseScript(source, catalog);
    return undefined;
  } catch (error) {
    if (error instanceof ScriptSyntaxError) {
      return error.message;
    }

    throw error;
  }
}

describe('parseScript errors', () => {
  test.each([
    ['foo', 'bad command name foo (line 1 column 1)'],
    [':put 1\n  bar 2', 'bad command name bar (line 2 column 3)'],
    [':foo', 'bad command name foo (line 1 column 2)'],
    ['/ip addresss print', 'bad command name addresss (line 1 column 5)'],
    ['/ip address add foo=bar', 'expected end of command (line 1 column 17)'],
    ['/ip firewall filter add chian=forward', 'expected end of command (line 1 column 25)'],
    [':put 1 2', 'expected end of command (line 1 column 8)'],
    ['"abc"', 'expected command name (line 1 column 1)'],
    [':put "abc', 'syntax error (line 1 column 10)'],
    [':put (1 + )', 'syntax error (line 1 column 11)'],
    [':put "\\q"', 'syntax error (line 1 column 7)'],
    [':put 1\r\n:put 2\r\nfoo', 'bad command name foo (line 3 column 1)'],
    [':put 1\rfoo', 'bad command name foo (line 2 column 1)'],
    ['{ :put 1', 'syntax error (line 1 column 9)'],
    [':put 1 }', 'syntax error (line 1 column 8)'],
    [':if (true) do={ :put 1 } else={ :pu 2 }', 'bad command name pu (line 1 column 34)'],
    ['/ip address print where', 'syntax error (line 1 column 24)'],
    ['/ip address print detail extra', 'expected end of command (line 1 column 26)'],
    [':local a [/system identity get name', 'syntax error (line 1 column 36)'],
  ])('%j fails with the device message', (source, message) => {
    expect(syntaxMessage(source)).toBe(message);
  });

  test('RouterOS 6 rejects slash paths', () => {
    expect(syntaxMessage('/ip/address/print', v6)).toBe(
      'bad command name ip/address/print (line 1 column 2)',
    );
  });

  test('RouterOS 7 accepts slash paths', () => {
    expect(
      syntaxMessage('/ip/address/print\n/ip/firewall/filter add chain=forward'),
    ).toBeUndefined();
  });

  test('comments and continuations parse', () => {
    const source = '# header\n:put \\\n  "x" # not a comment here';
    expect(syntaxMessage(source)).toBe('expected end of command (line 3 column 7)');
  });

  test('comment line after separator parses', () => {
    expect(syntaxMessage(':put 1; # trailing note\n:put 2')).toBeUndefined();
  });

  test('path line changes the menu', () => {
    expect(
      syntaxMessage('/ip address\nprint\nadd address=10.0.0.1/24 interface=ether1'),
    ).toBeUndefined();
  });

  test('path prefix lasts to the end of its line', () => {
    expect(syntaxMessage('/ip address print; print\nprint')).toBe(
      'bad command name print (line 2 column 1)',
    );
  });
});

describe('parseScript cache', () => {
  test('reuses the tree of a repeated script', () => {
    const source = ':put "cached once"';

    expect(parseScript(source, v7)).toBe(parseScript(source, v7));
  });

  test('parses again for another catalog', () => {
    const source = ':put "per catalog"';

    expect(parseScript(source, v6)).not.toBe(parseScript(source, v7));
  });

  test('drops the least recently used script', () => {
    const first = parseScript(':put "first"', v7);
    const kept = parseScript(':put "kept"', v7);
    for (let index = 0; index < 63; index++) {
      parseScript(`:put ${index}`, v7);
      parseScript(':put "kept"', v7);
    }

    expect(parseScript(':put "kept"', v7)).toBe(kept);
    expect(parseScript(':put "first"', v7)).not.toBe(first);
  });

  test('throws again for a repeated syntax error', () => {
    expect(syntaxMessage('foo')).toBe(syntaxMessage('foo'));
    expect(syntaxMessage('foo')).toBeDefined();
  });
});
