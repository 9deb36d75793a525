import { formatScriptTime, parseTime } from './time.js';

/**
 * Script values as RouterOS types them. Strings are byte strings (one character per byte), times
 * are seconds (fractions down to nanoseconds), ids are the number behind `*hex`.
 */
export type ScriptValue =
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'num'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'time'; readonly value: number }
  | { readonly type: 'ip'; readonly value: string }
  | { readonly type: 'ip-prefix'; readonly value: string }
  | { readonly type: 'id'; readonly value: number }
  | { readonly type: 'array'; readonly value: ScriptArray }
  | { readonly type: 'code'; readonly value: unknown }
  | { readonly type: 'nil' }
  | { readonly type: 'nothing' };

/**
 * A RouterOS array: positional elements first, then keyed elements, which the device keeps
 * sorted by key. Arrays are mutable through `:set ($a->k) v`, so each literal builds a new one.
 */
export type ScriptArray = { items: ScriptValue[]; keyed: Map<string, ScriptValue> };

export const NIL: ScriptValue = { type: 'nil' };
export const NOTHING: ScriptValue = { type: 'nothing' };
export const TRUE: ScriptValue = { type: 'bool', value: true };
export const FALSE: ScriptValue = { type: 'bool', value: false };

export function str(value: string): ScriptValue {
  return { type: 'str', value };
}

export function num(value: number): ScriptValue {
  return { type: 'num', value };
}

export function bool(value: boolean): ScriptValue {
  return value ? TRUE : FALSE;
}

export function id(value: number): ScriptValue {
  return { type: 'id', value };
}

export function newArray(items: ScriptValue[] = []): ScriptValue {
  return { type: 'array', value: { items, keyed: new Map() } };
}

/** Builds an array of `key=value` elements, as `print as-value` returns items. */
export function keyedArray(entries: Iterable<readonly [string, ScriptValue]>): ScriptValue {
  return { type: 'array', value: { items: [], keyed: new Map(entries) } };
}

/** Entries of an array in the device's order: positions first, then keys sorted bytewise. */
export function arrayEntries(array: ScriptArray): Array<[string | number, ScriptValue]> {
  const entries: Array<[string | number, ScriptValue]> = array.items.map((item, index) => [
    index,
    item,
  ]);
  const keys = [...array.keyed.keys()].sort(compareBytes);
  for (const key of keys) {
    const value = array.keyed.get(key);
    if (value !== undefined) {
      entries.push([key, value]);
    }
  }

  return entries;
}

export function arrayLength(array: ScriptArray): number {
  return array.items.length + array.keyed.size;
}

export function compareBytes(left: string, right: string): number {
  if (left === right) {
    return 0;
  }

  return left < right ? -1 : 1;
}

/** Formats an id as the device prints it: `*` and upper-case hex. */
export function formatId(value: number): string {
  return `*${value.toString(16).toUpperCase()}`;
}

/** Converts any value to its string form, as `:tostr` and `:put` do. */
export function toStr(value: ScriptValue): string {
  switch (value.type) {
    case 'str':
    case 'ip':
    case 'ip-prefix':
      return value.value;
    case 'num':
      return String(value.value);
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'time':
      return formatScriptTime(value.value);
    case 'id':
      return formatId(value.value);
    case 'array':
      return arrayEntries(value.value)
        .map(([key, item]) => (typeof key === 'number' ? toStr(item) : `${key}=${toStr(item)}`))
        .join(';');
    case 'code':
      return '(code)';
    case 'nil':
    case 'nothing':
      return '';
  }
}

const DECIMAL = /^-?[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const IP =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
const ID = /^\*[0-9a-fA-F]+$/;

/** Parses a decimal or `0x` hex integer, or returns undefined. */
export function parseNumber(text: string): number | undefined {
  if (DECIMAL.test(text)) {
    return Number.parseInt(text, 10);
  }

  if (HEX.test(text)) {
    return Number.parseInt(text.slice(2), 16);
  }

  return undefined;
}

export function isIp(text: string): boolean {
  return IP.test(text);
}

/** Converts dotted IPv4 text to an unsigned 32-bit number. */
export function ipToNumber(text: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export function numberToIp(value: number): string {
  const unsigned = value >>> 0;
  return [unsigned >>> 24, (unsigned >>> 16) & 255, (unsigned >>> 8) & 255, unsigned & 255].join(
    '.',
  );
}

/** Splits `a.b.c.d/len` and checks both parts, or returns undefined. */
export function parsePrefix(text: string): { address: string; length: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    return undefined;
  }

  const address = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (!isIp(address) || !/^[0-9]{1,2}$/.test(lengthText)) {
    return undefined;
  }

  const length = Number(lengthText);
  return length <= 32 ? { address, length } : undefined;
}

/** Returns the network of `address/length`, as the device stores an ip-prefix value. */
export function networkOf(address: string, length: number): string {
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return numberToIp((ipToNumber(address) & mask) >>> 0);
}

/**
 * Types a bare word the way the console does: numbers, ids, IPv4 addresses and prefixes, times
 * and `true`/`false` get their own type, anything else is a string.
 */
export function typeWord(text: string): ScriptValue {
  const number = parseNumber(text);
  if (number !== undefined) {
    return num(number);
  }

  if (text === 'true' || text === 'false') {
    return bool(text === 'true');
  }

  if (ID.test(text)) {
    return id(Number.parseInt(text.slice(1), 16));
  }

  if (isIp(text)) {
    return { type: 'ip', value: text };
  }

  if (parsePrefix(text) !== undefined) {
    return { type: 'ip-prefix', value: text };
  }

  const seconds = /^[0-9]/.test(text) ? parseTime(text) : undefined;
  if (seconds !== undefined) {
    return { type: 'time', value: seconds };
  }

  return str(text);
}

/** Converts a value to a boolean as conditions do, or returns undefined when it has none. */
export function toBool(value: ScriptValue): boolean | undefined {
  switch (value.type) {
    case 'bool':
      return value.value;
    case 'num':
      return value.value !== 0;
    case 'str':
      if (value.value === 'true' || value.value === 'yes') {
        return true;
      }

      if (value.value === 'false' || value.value === 'no') {
        return false;
      }

      return undefined;
    default:
      return undefined;
  }
}

/** Converts a value to a number as `:tonum` does, or returns undefined. */
export function toNum(value: ScriptValue): number | undefined {
  switch (value.type) {
    case 'num':
    case 'id':
      return value.value;
    case 'time':
      return Math.trunc(value.value);
    case 'bool':
      return value.value ? 1 : 0;
    case 'ip':
      return ipToNumber(value.value);
    case 'str':
      return parseNumber(value.value.trim());
    default:
      return undefined;
  }
}

/** Converts a value to an array as `:toarray` does: strings split at commas. */
export function toArray(value: ScriptValue): ScriptValue {
  switch (value.type) {
    case 'array':
      return value;
    case 'nil':
    case 'nothing':
      return newArray();
    case 'str':
      return newArray(value.value === '' ? [] : value.value.split(',').map(typeWord));
    default:
      return newArray([value]);
  }
}
