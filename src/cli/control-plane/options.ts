import { parseArgs } from 'node:util';
import { AgentError, type ErrorCode, errorMessage, isAgentError } from '../../errors.js';
import { EXIT } from '../command.js';

/** Default configuration file of `edge-control-plane`, relative to the working directory. */
export const DEFAULT_CONFIG_FILE = 'control-plane.yaml';

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/**
 * Parses a subcommand's options with `node:util` `parseArgs`, turning unknown options and
 * missing values into `USAGE_INVALID`.
 */
export function parseOptions(
  argv: readonly string[],
  options: OptionSpec,
): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new AgentError('USAGE_INVALID', errorMessage(error), { cause: error });
  }
}

/** Reads a string option, or `fallback` when it is absent. */
export function stringOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback?: string,
): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : fallback;
}

/** Codes of a wrong command line or configuration file, which a restart cannot fix. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'USAGE_INVALID',
  'CONFIG_NOT_FOUND',
  'CONFIG_INVALID',
]);

/**
 * Prints a failure of a subcommand to standard error and returns its exit code: 2 for the
 * command line or the configuration, 1 for the rest.
 */
export function reportFailure(program: string, error: unknown): number {
  const code = isAgentError(error) ? error.code : 'INTERNAL';
  process.stderr.write(`${program}: ${code}: ${errorMessage(error)}\n`);
  return USAGE_CODES.has(code) ? EXIT.usage : EXIT.failed;
}

/**
 * Parses a duration such as `90`, `90s`, `30m`, `12h` or `7d` into seconds. Throws
 * `USAGE_INVALID` naming the value.
 */
export function parseDurationSeconds(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (match === null) {
    throw new AgentError(
      'USAGE_INVALID',
      `Duration "${text}" is invalid; use a number of seconds or a number with s, m, h or d`,
    );
  }

  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
  return Number(match[1]) * (units[match[2] ?? ''] ?? 1);
}

/** Rewrites `edge-control-plane --config FILE` (options without a subcommand) to `serve`. */
export function withDefaultCommand(argv: readonly string[]): readonly string[] {
  const first = argv[0];
  if (first === '--config' || first?.startsWith('--config=') === true) {
    return ['serve', ...argv];
  }

  return argv;
}
