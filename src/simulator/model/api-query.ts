import type { PropertySpec } from './schema.js';
import { type ApiRow, DeviceTrap } from './types.js';

/**
 * Evaluates API `print` query words for one row, as RouterOS does with a stack of booleans:
 *
 * - `?name` pushes whether the row has `name`, `?-name` whether it lacks it;
 * - `?name=x`, `?<name=x`, `?>name=x` push the comparison of the row's value with `x`;
 * - `?#ops` applies operations left to right: `|` and `&` replace the top two values with
 *   their or/and, `!` negates the top, `.` pushes a copy of the top, a number N pushes a copy
 *   of the value N places below the top (0 is the top) or, when the number ends the word,
 *   replaces the whole stack with that value.
 *
 * The row matches when every value left on the stack is true; an empty stack matches.
 */
export function matchesQuery(
  queries: readonly string[],
  row: ApiRow,
  propertyOf: (name: string) => PropertySpec | undefined,
): boolean {
  const values = new Map(row);
  const stack: boolean[] = [];
  for (const word of queries) {
    if (word.startsWith('#')) {
      applyOperations(word.slice(1), stack);
      continue;
    }

    stack.push(evaluateWord(word, values, propertyOf));
  }

  return stack.every(Boolean);
}

function evaluateWord(
  word: string,
  values: ReadonlyMap<string, string>,
  propertyOf: (name: string) => PropertySpec | undefined,
): boolean {
  const text = word.startsWith('=') ? word.slice(1) : word;
  if (text.startsWith('-')) {
    return !values.has(text.slice(1));
  }

  const operator = text.startsWith('<') || text.startsWith('>') ? text.charAt(0) : '';
  const rest = text.slice(operator.length);
  const equals = rest.indexOf('=');
  if (equals < 0) {
    return values.has(rest);
  }

  const name = rest.slice(0, equals);
  const actual = values.get(name);
  if (actual === undefined) {
    return false;
  }

  const expected = normalize(propertyOf(name), rest.slice(equals + 1));
  if (operator === '') {
    return actual === expected;
  }

  const order = compare(actual, expected);
  return operator === '<' ? order < 0 : order > 0;
}

/** Booleans may be written as yes/no in queries; the API stores them as true/false. */
function normalize(property: PropertySpec | undefined, value: string): string {
  if (property?.type.kind !== 'bool') {
    return value;
  }

  if (value === 'yes') {
    return 'true';
  }

  return value === 'no' ? 'false' : value;
}

function compare(left: string, right: string): number {
  const a = Number(left);
  const b = Number(right);
  if (left !== '' && right !== '' && Number.isFinite(a) && Number.isFinite(b)) {
    return Math.sign(a - b);
  }

  if (left === right) {
    return 0;
  }

  return left < right ? -1 : 1;
}

function applyOperations(operations: string, stack: boolean[]): void {
  let index = 0;
  while (index < operations.length) {
    const char = operations.charAt(index);
    if (/[0-9]/.test(char)) {
      let end = index;
      while (/[0-9]/.test(operations.charAt(end))) {
        end += 1;
      }

      const depth = Number(operations.slice(index, end));
      const value = stack[stack.length - 1 - depth] ?? false;
      if (end === operations.length) {
        stack.splice(0, stack.length, value);
      } else {
        stack.push(value);
      }

      index = end;
      continue;
    }

    applyOperator(char, stack);
    index += 1;
  }
}

function applyOperator(char: string, stack: boolean[]): void {
  switch (char) {
    case '|':
    case '&': {
      const right = stack.pop() ?? false;
      const left = stack.pop() ?? false;
      stack.push(char === '|' ? left || right : left && right);
      return;
    }

    case '!':
      stack.push(!(stack.pop() ?? false));
      return;
    case '.':
      stack.push(stack[stack.length - 1] ?? false);
      return;
    default:
      // NOTE: the device's text for an unknown query operation is not documented; this one is
      // a stand-in with the API category.
      throw new DeviceTrap(`unknown query operation ${char}`, 5);
  }
}
