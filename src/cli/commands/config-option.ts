import { parseArgs } from 'node:util';

import { errorMessage } from '../../errors.js';
import { EXIT } from '../command.js';

/**
 * Parses the `--config FILE` and `--help` options that `edge-agent` subcommands share. Returns
 * the configuration file option, or the exit code when the command is done: after printing
 * `usage` for `--help` (0) or for an invalid argument (2).
 */
export function parseConfigOption(
  command: string,
  argv: readonly string[],
  usage: string,
): { config: string | undefined } | number {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`edge-agent ${command}: ${errorMessage(error)}\n\n${usage}`);
    return EXIT.usage;
  }

  if (values.help === true) {
    process.stdout.write(usage);
    return EXIT.ok;
  }

  return { config: values.config };
}
