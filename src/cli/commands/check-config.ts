import { parseArgs } from 'node:util';

import { loadConfig, resolveConfigFile } from '../../config/load.js';
import { verifySecrets } from '../../config/secrets.js';
import { errorMessage, isAgentError } from '../../errors.js';
import { type Command, EXIT } from '../command.js';

const USAGE = `Usage: edge-agent check-config [--config FILE]

Validates the configuration and reads every secret it names, without starting the agent.
Exits 0 when the configuration is usable and 2 otherwise, printing every problem found.

Options:
  --config FILE  configuration file (default: $EDGE_AGENT_CONFIG or /etc/edge-agent/config.yaml)
  --help         print this help
`;

/** `edge-agent check-config`: validates the configuration and its secrets, then exits. */
export const checkConfigCommand: Command = {
  summary: 'validate the configuration and its secret files without starting',

  async main(argv) {
    let values: { config?: string | undefined; help?: boolean | undefined };
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: { config: { type: 'string' }, help: { type: 'boolean' } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      process.stderr.write(`edge-agent check-config: ${errorMessage(error)}\n\n${USAGE}`);
      return EXIT.usage;
    }

    if (values.help === true) {
      process.stdout.write(USAGE);
      return EXIT.ok;
    }

    try {
      const config = await loadConfig(resolveConfigFile(values.config));
      await verifySecrets(config);
      process.stdout.write(
        `configuration ${config.sourceFile} is valid: site ${config.siteId}, ${config.devices.length} device(s)\n`,
      );
      return EXIT.ok;
    } catch (error) {
      if (!isAgentError(error)) {
        throw error;
      }

      process.stderr.write(`edge-agent check-config: ${error.code}: ${error.message}\n`);
      return EXIT.usage;
    }
  },
};

export default checkConfigCommand;
