import { pino } from 'pino';

import { systemClock } from '../clock.js';
import { readDeviceCredentials } from '../config/secrets.js';
import { defaultKnownHostsPath, JsonFileTrustStore } from '../devices/json-trust-store.js';
import type { DeviceConfig, SessionContext } from '../devices/types.js';
import { AgentError, type ErrorCode, errorMessage } from '../errors.js';
import { createLogger, type Logger } from '../logging.js';
import { EXIT } from './command.js';

/**
 * Pieces the device commands of `edge-agent` share: the logger, the known-hosts file, session
 * contexts and the exit code of an error.
 */

/** Codes that mean the command line or configuration is wrong rather than a device. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'USAGE_INVALID',
  'CONFIG_NOT_FOUND',
  'CONFIG_INVALID',
  'SECRET_UNREADABLE',
  'DEVICE_NOT_FOUND',
]);

/** Returns the exit code for an error: 2 for usage and configuration, 1 for the rest. */
export function exitCodeOf(error: AgentError): number {
  return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
}

/** Creates the logger of a one-shot command: warnings and errors only, as JSON on stderr. */
export function createCommandLogger(): Logger {
  return createLogger({ name: 'edge-agent', level: 'warn', destination: pino.destination(2) });
}

/** Opens the known-hosts file given with `--known-hosts`, or the default one. */
export function openKnownHosts(file: string | undefined): JsonFileTrustStore {
  return new JsonFileTrustStore(file ?? defaultKnownHostsPath());
}

export type TimeoutOptions = { connectTimeoutMs: number; commandTimeoutMs: number };

/** Builds a session context, reading the device's secrets from the files its config names. */
export async function sessionContextFor(
  device: DeviceConfig,
  trust: JsonFileTrustStore,
  logger: Logger,
  timeouts: TimeoutOptions,
  signal?: AbortSignal,
): Promise<SessionContext> {
  const context: SessionContext = {
    credentials: await readDeviceCredentials(device),
    trust,
    logger: logger.child({ device: device.id }),
    clock: systemClock,
    ...timeouts,
  };
  if (signal !== undefined) {
    context.signal = signal;
  }

  return context;
}

/**
 * Parses a whole number of milliseconds from 1 to `max` from an option, or throws USAGE_INVALID.
 * Returns `fallback` when the option is not given.
 */
export function parseMilliseconds(
  name: string,
  text: string | undefined,
  fallback: number,
  max: number,
): number {
  if (text === undefined) {
    return fallback;
  }

  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new AgentError(
      'USAGE_INVALID',
      `--${name} expects a whole number of milliseconds from 1 to ${max}, got "${text}"`,
    );
  }

  return value;
}

/** Writes `edge-agent <command>: CODE: message` to stderr. */
export function reportError(command: string, error: unknown): void {
  const code = error instanceof AgentError ? `${error.code}: ` : '';
  process.stderr.write(`edge-agent ${command}: ${code}${errorMessage(error)}\n`);
}
