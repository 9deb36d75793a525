import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names whose values are secrets wherever they appear. Redaction covers them at the top
 * level and up to three objects deep, which is as deep as any object this project logs.
 */
const SECRET_FIELDS = [
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
] as const;

/** Every redaction path pino checks: each secret field at depths zero to three. */
export const REDACTED_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `*.*.*.${field}`,
]);

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
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    // The error's own message once, and its cause chain nested under `err.cause`, rather than
    // the default serializer's one message that repeats every cause's text after it.
    serializers: { err: pino.stdSerializers.errWithCause },
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
