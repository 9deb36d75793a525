import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** Field names whose values are secrets wherever they appear. */
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'password',
  'passphrase',
  'privateKey',
  'token',
  'accessToken',
  'siteToken',
  'secret',
  'authorization',
  'Authorization',
  'cookie',
]);

/** Text written in place of a secret. */
const CENSOR = '[redacted]';

/** How many levels below a logged object redaction searches. Deeper objects are written as is. */
const MAX_REDACTION_DEPTH = 8;

/**
 * Returns `value` with every secret field's value replaced by `[redacted]`. It searches the
 * fields JSON would write: those of objects, errors and class instances, and array items. A
 * value without secrets comes back as it is. Otherwise only the objects on the way to a secret
 * are copied, and the caller's objects stay unchanged.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_REDACTION_DEPTH) {
    return value;
  }

  if (Array.isArray(value)) {
    return redactItems(value, depth);
  }

  // Buffers and typed arrays carry no field names, and their items may be many.
  if (ArrayBuffer.isView(value)) {
    return value;
  }

  // JSON writes what `toJSON` returns (AgentError has one), so that is what is searched.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(value);
    const redacted = redactSecrets(json, depth + 1);
    return redacted === json ? value : redacted;
  }

  return redactFields(value as Record<string, unknown>, depth, undefined);
}

function redactItems(items: unknown[], depth: number): unknown[] {
  let copy: unknown[] | undefined;
  items.forEach((item, index) => {
    const redacted = redactSecrets(item, depth + 1);
    if (redacted !== item) {
      copy ??= [...items];
      copy[index] = redacted;
    }
  });
  return copy ?? items;
}

/** Redacts the fields of one object, leaving the field named `skipped` to its serializer. */
function redactFields(
  fields: Record<string, unknown>,
  depth: number,
  skipped: string | undefined,
): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (key === skipped) {
      continue;
    }

    const field = fields[key];
    const redacted = SECRET_FIELDS.has(key) ? CENSOR : redactSecrets(field, depth + 1);
    if (redacted !== field) {
      copy ??= { ...fields };
      copy[key] = redacted;
    }
  }

  return copy ?? fields;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type CreateLoggerOptions = {
  /** Minimum level written. Default `info`. */
  level?: LogLevel;
  /** Name of the program, written as `name` on every line. */
  name: string;
  /** Where JSON lines go. Default standard output. */
  destination?: DestinationStream;
};

/**
 * Creates the root logger: JSON lines, errors under `err`, secrets replaced by `[redacted]`.
 * Components take child loggers from it with `logger.child({ component: '...' })`.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const settings: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    // pino's `redact` covers the top level of log objects and of child bindings, which pino
    // writes without the `bindings` formatter. Deeper fields are searched by `redactSecrets` in
    // one walk: pino's wildcard paths for them cost about 40 µs per run, most of the agent's
    // logging time. Child bindings are therefore redacted at their top level only.
    redact: { paths: [...SECRET_FIELDS], censor: CENSOR },
    formatters: {
      // `err` is still an Error here; its serializer redacts it once it is a plain object.
      log: (object) => redactFields(object, 0, 'err'),
    },
    // The error's own message once, and its cause chain nested under `err.cause`, rather than
    // the default serializer's one message that repeats every cause's text after it.
    serializers: {
      err: (error: Error) => redactSecrets(pino.stdSerializers.errWithCause(error)),
    },
    base: { pid: process.pid },
  };

  if (options.destination === undefined) {
    return pino(settings);
  }

  return pino(settings, options.destination);
}

/** A logger that writes nothing, for library callers and tests that do not read logs. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
