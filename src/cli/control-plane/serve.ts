import { loadControlPlaneConfig } from '../../control-plane/config.js';
import { ControlPlane } from '../../control-plane/server.js';
import { createLogger } from '../../logging.js';
import { type Command, EXIT } from '../command.js';
import { DEFAULT_CONFIG_FILE, parseOptions, reportFailure, stringOption } from './options.js';

const HELP = `Usage: edge-control-plane serve [--config FILE]

Serves the Scripts API and the agent hub until SIGINT or SIGTERM.

Options:
  --config FILE  YAML or JSON configuration (default ${DEFAULT_CONFIG_FILE})
`;

async function main(argv: readonly string[]): Promise<number> {
  try {
    const values = parseOptions(argv, { config: { type: 'string' }, help: { type: 'boolean' } });
    if (values.help === true) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }

    const config = await loadControlPlaneConfig(
      stringOption(values, 'config', DEFAULT_CONFIG_FILE) ?? '',
    );
    const logger = createLogger({ name: 'edge-control-plane' });
    const controlPlane = await ControlPlane.start({ config, logger });
    const { info } = controlPlane;

    process.stdout.write(
      [
        `Scripts API: ${info.url}/scripts/scheduled`,
        `Agent hub: ${info.agentUrl}`,
        `Signing public key (key id ${info.keyId}): ${info.publicKey}`,
        '',
      ].join('\n'),
    );
    await waitForSignal();
    await controlPlane.stop();
    return EXIT.ok;
  } catch (error) {
    return reportFailure('edge-control-plane serve', error);
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export const command: Command = {
  summary: 'Serve the Scripts API and the agent hub (also: --config FILE alone)',
  main,
};
