import { loadControlPlaneConfig } from '../../control-plane/config.js';
import { loadOrCreateSigningKey } from '../../control-plane/secrets.js';
import { AgentError } from '../../errors.js';
import { encodePublicKey } from '../../protocol/signing.js';
import { type Command, EXIT } from '../command.js';
import { parseOptions, reportFailure, stringOption } from './options.js';

const HELP = `Usage: edge-control-plane keygen (--out FILE | --config FILE)

Creates the Ed25519 job-signing key file (mode 0600) unless it exists, then prints its key id
and public key for the agents' controlPlane.jobSigningKey (keyId and publicKey).

Options:
  --out FILE     private key file to create or read
  --config FILE  take the file from signingKeyFile of this configuration
`;

async function main(argv: readonly string[]): Promise<number> {
  try {
    const values = parseOptions(argv, {
      out: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    });
    if (values.help === true) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }

    const file = await keyFile(stringOption(values, 'out'), stringOption(values, 'config'));
    const { value: key, created } = await loadOrCreateSigningKey(file);
    process.stdout.write(
      `${created ? 'Created' : 'Read'} ${file}\nKey id: ${key.keyId}\nPublic key: ${encodePublicKey(key.publicKey)}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    return reportFailure('edge-control-plane keygen', error);
  }
}

async function keyFile(out: string | undefined, config: string | undefined): Promise<string> {
  if (out !== undefined) {
    return out;
  }

  if (config !== undefined) {
    return (await loadControlPlaneConfig(config)).signingKeyFile;
  }

  throw new AgentError('USAGE_INVALID', 'Give --out FILE or --config FILE; see --help');
}

export const command: Command = {
  summary: 'Create the job-signing key and print its public key',
  main,
};
