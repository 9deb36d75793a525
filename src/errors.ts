/**
 * Every stable error code the agent, the control plane and the simulator raise. Tests, logs,
 * stored results and protocol replies carry these codes, so a code is never renamed or reused.
 * Add new codes to the section they belong to.
 */
export const ERROR_CODES = [
  // Command line, configuration and secrets.
  'USAGE_INVALID',
  'CONFIG_NOT_FOUND',
  'CONFIG_INVALID',
  'SECRET_UNREADABLE',

  // Running a script on one device.
  'DEVICE_UNREACHABLE',
  'AUTH_FAILED',
  'TLS_FAILED',
  'HOST_KEY_MISMATCH',
  'SCRIPT_SYNTAX_ERROR',
  'SCRIPT_FAILED',
  'TIMEOUT',
  'CONNECTION_LOST',
  'CANCELLED',
  'ENCODING_ERROR',
  'UNSUPPORTED',
  'DEVICE_PROTOCOL_ERROR',

  // Jobs and runs.
  'JOB_NOT_FOUND',
  'DEVICE_NOT_FOUND',
  'EXPIRED',
  'SKIPPED',
  'INTERRUPTED',
  'BACKUP_FAILED',
  'AGENT_STOPPING',

  // The SQLite store.
  'STORE_CORRUPT',
  'STORE_FOREIGN',
  'STORE_TOO_NEW',
  'STORE_READ_ONLY',
  'STORE_FULL',
  'STORE_LOCKED',
  'STORE_FAILED',

  // The control-plane link and job authenticity.
  'FRAME_INVALID',
  'FRAME_TOO_LARGE',
  'PROTOCOL_VERSION_UNSUPPORTED',
  'UPLINK_AUTH_FAILED',
  'UPLINK_TLS_FAILED',
  'UPLINK_UNAVAILABLE',
  'JOB_UNSIGNED',
  'JOB_SIGNATURE_INVALID',
  'JOB_WRONG_SITE',
  'JOB_EXPIRED',
  'JOB_INVALID',
  'OUTBOX_WINDOW_FULL',

  // The local status endpoint and the control plane's HTTP API.
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'REQUEST_INVALID',
  'CONFLICT',
  'LISTEN_FAILED',

  // A defect in this program rather than in its input.
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Reports whether `value` is one of the stable error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

export type AgentErrorOptions = {
  /** The error this one wraps, kept for logs and debugging. */
  cause?: unknown;
  /** Structured values that explain the failure (device id, job id, path, limit). */
  details?: Readonly<Record<string, unknown>>;
};

/**
 * The one error type of this project. The message names the device, job or value involved and
 * the next step; `code` is what callers branch on.
 */
export class AgentError extends Error {
  readonly code: ErrorCode;

  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** A plain object for JSON output, stored results and protocol replies. */
  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    if (Object.keys(this.details).length === 0) {
      return { code: this.code, message: this.message };
    }

    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Reports whether `error` is an AgentError, optionally with the given code. */
export function isAgentError(error: unknown, code?: ErrorCode): error is AgentError {
  return error instanceof AgentError && (code === undefined || error.code === code);
}

/**
 * Wraps any thrown value in an AgentError with `code` unless it already is one. Use it at
 * boundaries where a library error must become one of ours.
 */
export function toAgentError(error: unknown, code: ErrorCode, message: string): AgentError {
  if (error instanceof AgentError) {
    return error;
  }

  return new AgentError(code, message, { cause: error });
}

/** The message of any thrown value, for places that only need text. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }

  return String(error);
}
