import { parseTime } from '../script/time.js';
import { isIp, parseNumber, parsePrefix } from '../script/values.js';
import { DeviceTrap } from './types.js';

/**
 * The type of a menu property. Values are kept as internal strings: booleans as `true`/`false`,
 * times as seconds, sizes as bytes; views format them for the console, the API and export.
 */
export type PropertyType =
  | { readonly kind: 'string' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'enum'; readonly values: readonly string[]; readonly list?: boolean }
  | { readonly kind: 'ip' }
  /** An address with optional `/length`, stored as written (`192.168.88.1/24`). */
  | { readonly kind: 'address' }
  | { readonly kind: 'ip-list' }
  | { readonly kind: 'time' }
  /** The name of an item in another menu, such as an interface, or one of `extra`. */
  | { readonly kind: 'reference'; readonly menu: string; readonly extra?: readonly string[] }
  | { readonly kind: 'ports' }
  /** Bytes; the console prints them as `1024.0MiB`. */
  | { readonly kind: 'bytes' };

export type PropertySpec = {
  readonly name: string;
  readonly type: PropertyType;
  /** Value of an item that never set the property; undefined means the item has no value. */
  readonly default?: string;
  /** `add` fails without it. */
  readonly required?: boolean;
  /** State the device computes or reports; `add` and `set` do not accept it. */
  readonly readOnly?: boolean;
  /** No two items may share the value (`failure: already have such name`). */
  readonly unique?: boolean;
  /** Never printed or exported (passwords). */
  readonly secret?: boolean;
  /** Printed with `detail` and over the API, but not as a table column. */
  readonly detailOnly?: boolean;
  /** Suffix the console prints after the value (`MHz`, `%`); the API sends the bare number. */
  readonly unit?: string;
};

export const STRING: PropertyType = { kind: 'string' };
export const BOOL: PropertyType = { kind: 'bool' };
export const TIME: PropertyType = { kind: 'time' };
export const ADDRESS: PropertyType = { kind: 'address' };

export function integer(min: number, max: number): PropertyType {
  return { kind: 'integer', min, max };
}

export function oneOf(values: readonly string[], list = false): PropertyType {
  return { kind: 'enum', values, list };
}

function invalid(name: string): DeviceTrap {
  return new DeviceTrap(`invalid value for argument ${name}`, 1);
}

function noMatch(name: string): DeviceTrap {
  return new DeviceTrap(`input does not match any value of ${name}`, 1);
}

/** Names an item of another menu may be referred to by, for `reference` properties. */
export type ReferenceLookup = (menu: string) => readonly string[];

/**
 * Checks and converts a value written by a script or API client into the internal form.
 * Throws DeviceTrap with the device's message and category 1 when the value is not accepted.
 */
export function normalizeValue(spec: PropertySpec, text: string, lookup: ReferenceLookup): string {
  const { type, name } = spec;
  switch (type.kind) {
    case 'string':
      return text;
    case 'bool':
      return normalizeBool(name, text);
    case 'integer':
      return normalizeInteger(name, type.min, type.max, text);
    case 'enum':
      return normalizeEnum(name, type.values, type.list === true, text);
    case 'ip':
      if (!isIp(text)) {
        throw invalid(name);
      }

      return text;
    case 'address':
      if (!isIp(text) && parsePrefix(text) === undefined && !/^[0-9.]+-[0-9.]+$/.test(text)) {
        throw invalid(name);
      }

      return text;
    case 'ip-list':
      return normalizeIpList(name, text);
    case 'time':
      return normalizeTime(name, text);
    case 'reference':
      return normalizeReference(name, text, [...lookup(type.menu), ...(type.extra ?? [])]);
    case 'ports':
      if (!/^[0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*$/.test(text)) {
        throw invalid(name);
      }

      return text;
    case 'bytes':
      return normalizeInteger(name, 0, Number.MAX_SAFE_INTEGER, text);
  }
}

function normalizeBool(name: string, text: string): string {
  if (text === 'yes' || text === 'true') {
    return 'true';
  }

  if (text === 'no' || text === 'false') {
    return 'false';
  }

  throw invalid(name);
}

function normalizeInteger(name: string, min: number, max: number, text: string): string {
  const value = parseNumber(text);
  if (value === undefined) {
    throw invalid(name);
  }

  if (value < min || value > max) {
    throw new DeviceTrap(`value of ${name} out of range (${min}..${max})`, 1);
  }

  return String(value);
}

function normalizeEnum(name: string, values: readonly string[], list: boolean, text: string) {
  const parts = list ? text.split(',') : [text];
  if (list && text === '') {
    return '';
  }

  for (const part of parts) {
    if (!values.includes(part)) {
      throw noMatch(name);
    }
  }

  return parts.join(',');
}

function normalizeIpList(name: string, text: string): string {
  if (text === '') {
    return '';
  }

  const parts = text.split(',');
  if (!parts.every(isIp)) {
    throw invalid(name);
  }

  return parts.join(',');
}

function normalizeTime(name: string, text: string): string {
  const number = parseNumber(text);
  const seconds = number ?? parseTime(text);
  if (seconds === undefined || seconds < 0) {
    throw invalid(name);
  }

  return String(seconds);
}

function normalizeReference(name: string, text: string, allowed: readonly string[]): string {
  if (!allowed.includes(text)) {
    throw noMatch(name);
  }

  return text;
}

/** A string property the device reports but `add` and `set` do not accept. */
export function readOnly(name: string, extra: Partial<PropertySpec> = {}): PropertySpec {
  return { name, type: STRING, readOnly: true, ...extra };
}
