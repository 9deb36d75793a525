import type { BinaryOperator } from './ast.js';
import {
  arrayEntries,
  bool,
  compareBytes,
  ipToNumber,
  NIL,
  newArray,
  num,
  numberToIp,
  parsePrefix,
  type ScriptValue,
  str,
  toBool,
  toNum,
  toStr,
} from './values.js';

/** Applies a binary operator. Operand pairs the device does not define give nil, not an error. */
export function applyBinary(
  operator: BinaryOperator,
  left: ScriptValue,
  right: ScriptValue,
): ScriptValue {
  switch (operator) {
    case '.':
      return str(toStr(left) + toStr(right));
    case ',':
      return joinArrays(left, right);
    case '&&':
      return bool(toBool(left) === true && toBool(right) === true);
    case '||':
      return bool(toBool(left) === true || toBool(right) === true);
    case '=':
      return bool(valuesEqual(left, right));
    case '!=':
      return bool(!valuesEqual(left, right));
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compareWith(operator, left, right);
    case '~':
      return matchRegex(left, right);
    case 'in':
      return bool(isInPrefix(left, right));
    default:
      return arithmetic(operator, left, right);
  }
}

function joinArrays(left: ScriptValue, right: ScriptValue): ScriptValue {
  const items: ScriptValue[] = [];
  for (const side of [left, right]) {
    if (side.type === 'array') {
      items.push(...arrayEntries(side.value).map(([, value]) => value));
    } else if (side.type !== 'nothing' && side.type !== 'nil') {
      items.push(side);
    }
  }

  return newArray(items);
}

/** Equality as `=` tests it: same type compares values, otherwise the string forms. */
export function valuesEqual(left: ScriptValue, right: ScriptValue): boolean {
  if (left.type === 'bool' || right.type === 'bool') {
    const a = toBool(left);
    const b = toBool(right);
    return a !== undefined && a === b;
  }

  if (left.type === right.type && left.type !== 'array') {
    return toStr(left) === toStr(right);
  }

  const leftNumber = left.type === 'num' ? left.value : undefined;
  const rightNumber = right.type === 'num' ? right.value : undefined;
  if (leftNumber !== undefined && right.type === 'str') {
    return toNum(right) === leftNumber;
  }

  if (rightNumber !== undefined && left.type === 'str') {
    return toNum(left) === rightNumber;
  }

  return toStr(left) === toStr(right);
}

function orderOf(left: ScriptValue, right: ScriptValue): number | undefined {
  if ((left.type === 'num' || left.type === 'time') && left.type === right.type) {
    return Math.sign(left.value - right.value);
  }

  if (left.type === 'ip' && right.type === 'ip') {
    return Math.sign(ipToNumber(left.value) - ipToNumber(right.value));
  }

  const leftNumber = toNum(left);
  const rightNumber = toNum(right);
  if (left.type !== 'str' && right.type !== 'str') {
    return leftNumber === undefined || rightNumber === undefined
      ? undefined
      : Math.sign(leftNumber - rightNumber);
  }

  if (leftNumber !== undefined && rightNumber !== undefined && left.type !== right.type) {
    return Math.sign(leftNumber - rightNumber);
  }

  return compareBytes(toStr(left), toStr(right));
}

function compareWith(operator: '<' | '>' | '<=' | '>=', left: ScriptValue, right: ScriptValue) {
  const order = orderOf(left, right);
  if (order === undefined) {
    return bool(false);
  }

  switch (operator) {
    case '<':
      return bool(order < 0);
    case '>':
      return bool(order > 0);
    case '<=':
      return bool(order <= 0);
    case '>=':
      return bool(order >= 0);
  }
}

function matchRegex(left: ScriptValue, right: ScriptValue): ScriptValue {
  try {
    return bool(new RegExp(toStr(right)).test(toStr(left)));
  } catch {
    return bool(false);
  }
}

function isInPrefix(left: ScriptValue, right: ScriptValue): boolean {
  const prefix = parsePrefix(toStr(right));
  if (prefix === undefined) {
    return (
      right.type === 'array' && arrayEntries(right.value).some(([, v]) => valuesEqual(v, left))
    );
  }

  const inner = parsePrefix(toStr(left)) ?? { address: toStr(left), length: 32 };
  if (inner.length < prefix.length || !/^[0-9.]+$/.test(inner.address)) {
    return false;
  }

  const mask = prefix.length === 0 ? 0 : (0xffffffff << (32 - prefix.length)) >>> 0;
  return (ipToNumber(inner.address) & mask) >>> 0 === (ipToNumber(prefix.address) & mask) >>> 0;
}

function integerOperation(operator: BinaryOperator, a: number, b: number): number | undefined {
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : Math.trunc(a / b);
    case '%':
      return b === 0 ? undefined : a % b;
    case '&':
      return Number(BigInt(a) & BigInt(b));
    case '|':
      return Number(BigInt(a) | BigInt(b));
    case '^':
      return Number(BigInt(a) ^ BigInt(b));
    case '<<':
      return Number(BigInt(a) << BigInt(b));
    case '>>':
      return Number(BigInt(a) >> BigInt(b));
    default:
      return undefined;
  }
}

function arithmetic(operator: BinaryOperator, left: ScriptValue, right: ScriptValue): ScriptValue {
  if (left.type === 'time' || right.type === 'time') {
    return timeArithmetic(operator, left, right);
  }

  if (left.type === 'ip' && (right.type === 'num' || right.type === 'ip')) {
    return ipArithmetic(operator, left.value, right);
  }

  const a = toNum(left);
  const b = toNum(right);
  if (a === undefined || b === undefined || left.type === 'array' || right.type === 'array') {
    return NIL;
  }

  const result = integerOperation(operator, a, b);
  return result === undefined ? NIL : num(result);
}

function timeArithmetic(operator: BinaryOperator, left: ScriptValue, right: ScriptValue) {
  const a = left.type === 'time' ? left.value : toNum(left);
  const b = right.type === 'time' ? right.value : toNum(right);
  if (a === undefined || b === undefined) {
    return NIL;
  }

  const bothTimes = left.type === 'time' && right.type === 'time';
  switch (operator) {
    case '+':
      return { type: 'time', value: a + b } as const;
    case '-':
      return { type: 'time', value: a - b } as const;
    case '*':
      return bothTimes ? NIL : ({ type: 'time', value: a * b } as const);
    case '/':
      if (b === 0) {
        return NIL;
      }

      return bothTimes ? num(Math.trunc(a / b)) : ({ type: 'time', value: a / b } as const);
    default:
      return NIL;
  }
}

function ipArithmetic(operator: BinaryOperator, address: string, right: ScriptValue) {
  const a = ipToNumber(address);
  const b = right.type === 'ip' ? ipToNumber(right.value) : (toNum(right) ?? 0);
  switch (operator) {
    case '+':
      return { type: 'ip', value: numberToIp(a + b) } as const;
    case '-':
      return right.type === 'ip' ? num(a - b) : ({ type: 'ip', value: numberToIp(a - b) } as const);
    case '&':
      return { type: 'ip', value: numberToIp((a & b) >>> 0) } as const;
    case '|':
      return { type: 'ip', value: numberToIp((a | b) >>> 0) } as const;
    default:
      return NIL;
  }
}

/** Applies `!`, unary `-` or bitwise `~`. */
export function applyUnary(operator: '!' | '-' | '~', operand: ScriptValue): ScriptValue {
  if (operator === '!') {
    const value = toBool(operand);
    return value === undefined ? NIL : bool(!value);
  }

  if (operand.type === 'time') {
    return { type: 'time', value: -operand.value };
  }

  const value = toNum(operand);
  if (value === undefined) {
    return NIL;
  }

  return num(operator === '-' ? -value : Number(~BigInt(value)));
}
