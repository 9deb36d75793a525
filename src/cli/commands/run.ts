import { resolveConfigFile } from '../../config/load.js';
import { runDaemon } from '../../daemon/process.js';
import type { Command } from '../command.js';
import { parseConfigOption } from './config-option.js';

const USAGE = `Usage: edge-agent run [--config FILE]

Runs the edge agent until SIGTERM or SIGINT. SIGHUP reloads the device inventory.
Logs JSON lines to standard output; startup failures are also printed on standard error.

Exit codes: 0 after a clean stop, 2 when the configuration is missing or invalid, 1 when the
agent could not start for another reason (such as the store) or failed while running.

Options:
  --config FILE  configuration file (default: $EDGE_AGENT_CONFIG or /etc/edge-agent/config.yaml)
  --help         print this help
`;

/** `edge-agent run`: the agent daemon. */
export const runCommand: Command = {
  summary: 'run the agent until SIGTERM or SIGINT (SIGHUP reloads the inventory)',

  async main(argv) {
    const options = parseConfigOption('run', argv, USAGE);
    if (typeof options === 'number') {
      return options;
    }

    return runDaemon(resolveConfigFile(options.config), process);
  },
};

export default runCommand;
