import { loadConfig, resolveConfigFile } from '../../config/load.js';
import type { ConfigProblem } from '../../config/problems.js';
import { verifySecrets } from '../../config/secrets.js';
import { checkCaFile, checkStartupRules } from '../../daemon/startup-rules.js';
import { isAgentError } from '../../errors.js';
import { type Command, EXIT } from '../command.js';
import { parseConfigOption } from './config-option.js';

const USAGE = `Usage: edge-agent check-config [--config FILE]

Validates the configuration and reads every secret it names, without starting the agent.
Exits 0 when the configuration is usable and 2 otherwise, printing every problem found.

Options:
  --config FILE  configuration file (default: $EDGE_AGENT_CONFIG or /etc/edge-agent/config.yaml)
  --help         print this help
`;

const CREDENTIALS_HINT = `The configuration names systemd credentials, which only a service started with
LoadCredential= can read. Check it the way the service starts, for example:
  sudo systemd-run --pipe --wait --collect \\
    -p LoadCredential=site-token:/etc/edge-agent/credentials/site-token \\
    -p LoadCredential=device:/etc/edge-agent/credentials/devices \\
    /usr/bin/node /opt/edge-agent/dist/src/cli/edge-agent.js check-config
or set CREDENTIALS_DIRECTORY to a directory with one file per credential name.
`;

/** Reports whether a CONFIG_INVALID lists a credential setting, which fails without systemd. */
function needsCredentialsDirectory(problems: unknown): boolean {
  return (
    (process.env.CREDENTIALS_DIRECTORY ?? '') === '' &&
    Array.isArray(problems) &&
    problems.some((problem: ConfigProblem) => problem.path.endsWith('Credential'))
  );
}

/** `edge-agent check-config`: validates the configuration and its secrets, then exits. */
export const checkConfigCommand: Command = {
  summary: 'validate the configuration and its secret files without starting',

  async main(argv) {
    const options = parseConfigOption('check-config', argv, USAGE);
    if (typeof options === 'number') {
      return options;
    }

    try {
      const config = await loadConfig(resolveConfigFile(options.config));
      checkStartupRules(config);
      await checkCaFile(config);
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
      if (needsCredentialsDirectory(error.details.problems)) {
        process.stderr.write(CREDENTIALS_HINT);
      }

      return EXIT.usage;
    }
  },
};

export default checkConfigCommand;
