import { formatDuration, formatScriptTime } from '../script/time.js';
import { newArray, num, type ScriptValue, str, typeWord } from '../script/values.js';
import type { PropertySpec } from './schema.js';
import type { RouterOsVersion } from './types.js';

/** Where a value is shown: the console and export print `yes`, the API sends `true`. */
export type ValueView = 'console' | 'api';

/** Formats a time value the way this version prints durations. */
export function durationText(version: RouterOsVersion, seconds: number): string {
  return version.major >= 7 ? formatDuration(seconds) : formatScriptTime(seconds);
}

/** Sizes as the console prints them: `1024.0MiB`, `512.0KiB`, `300`. */
function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) {
    return `${(bytes / (1024 * 1024)).toFixed(1)}MiB`;
  }

  if (bytes >= 1024) {
    return `${(bytes / 1024).toFixed(1)}KiB`;
  }

  return String(bytes);
}

/** Formats an internal value for the console or the API. */
export function formatValue(
  version: RouterOsVersion,
  property: PropertySpec | undefined,
  internal: string,
  view: ValueView,
): string {
  const kind = property?.type.kind;
  if (kind === 'bool') {
    const truth = internal === 'true';
    if (view === 'api') {
      return truth ? 'true' : 'false';
    }

    return truth ? 'yes' : 'no';
  }

  if (kind === 'time' && internal !== '' && !Number.isNaN(Number(internal))) {
    return durationText(version, Number(internal));
  }

  if (view === 'console' && kind === 'bytes' && internal !== '') {
    return formatBytes(Number(internal));
  }

  if (view === 'console' && property?.unit !== undefined) {
    return `${internal}${property.unit}`;
  }

  return internal;
}

/**
 * A property value as scripts see it from `get` and `print as-value`. An address list such as
 * `/ip dns servers` is an array, which `:put` prints as `1.1.1.1;8.8.8.8`.
 * NOTE: enum lists (`policy`, `connection-state`) still come back as comma-separated strings;
 * whether devices return those as arrays too is not verified.
 */
export function scriptValueOf(property: PropertySpec | undefined, internal: string): ScriptValue {
  switch (property?.type.kind) {
    case 'bool':
      return { type: 'bool', value: internal === 'true' };
    case 'time':
      return internal === '' ? str('') : { type: 'time', value: Number(internal) };
    case 'integer':
    case 'bytes':
      return /^-?[0-9]+$/.test(internal) ? num(Number(internal)) : str(internal);
    case 'ip':
    case 'address':
      return typeWord(internal);
    case 'ip-list':
      return newArray(internal === '' ? [] : internal.split(',').map(typeWord));
    default:
      return str(internal);
  }
}

const PLAIN = /^[A-Za-z0-9._:/,+!*@-]+$/;

/**
 * Writes a value as console `print detail` and `export` do: bare when it is plain, otherwise in
 * quotes with `\"`, `\\`, `\$`, `\?` escapes and every byte outside printable ASCII as `\XX`.
 */
export function quoteValue(text: string): string {
  if (PLAIN.test(text)) {
    return text;
  }

  let quoted = '"';
  for (let i = 0; i < text.length; i += 1) {
    quoted += escapeByte(text.charCodeAt(i));
  }

  return `${quoted}"`;
}

function escapeByte(code: number): string {
  switch (code) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x24:
      return '\\$';
    case 0x3f:
      return '\\?';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    default:
      if (code < 0x20 || code >= 0x7f) {
        return `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
      }

      return String.fromCharCode(code);
  }
}
