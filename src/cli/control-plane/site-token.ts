import { generateSiteToken, hashSiteToken } from '../../control-plane/secrets.js';
import { type Command, EXIT } from '../command.js';
import { parseOptions, reportFailure } from './options.js';

const HELP = `Usage: edge-control-plane site-token

Generates an agent token for one site and prints it with the tokenHash line for the control
plane's sites list. Give the token to that site's agent only; the control plane keeps the hash.
`;

async function main(argv: readonly string[]): Promise<number> {
  try {
    const values = parseOptions(argv, { help: { type: 'boolean' } });
    if (values.help === true) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }

    const token = generateSiteToken();
    process.stdout.write(`Agent token: ${token}\ntokenHash: ${hashSiteToken(token)}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure('edge-control-plane site-token', error);
  }
}

export const command: Command = {
  summary: 'Generate a site agent token and its hash for the configuration',
  main,
};
