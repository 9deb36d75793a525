import { loadControlPlaneConfig } from '../../control-plane/config.js';
import { mintApiToken, SCOPES } from '../../control-plane/http/auth.js';
import { loadOrCreateJwtSecret } from '../../control-plane/secrets.js';
import { AgentError } from '../../errors.js';
import { type Command, EXIT } from '../command.js';
import {
  DEFAULT_CONFIG_FILE,
  parseDurationSeconds,
  parseOptions,
  reportFailure,
  stringOption,
} from './options.js';

/** Maximum lifetime of a development token, in seconds: 366 days. */
const MAX_TTL_SECONDS = 366 * 86_400;

const HELP = `Usage: edge-control-plane token --sub NAME --scopes SCOPE[,SCOPE...] [options]

Mints a development JWT (HS256) for the Scripts API and prints it.

Options:
  --sub NAME       subject of the token, recorded as creator or approver
  --scopes LIST    comma-separated scopes: ${SCOPES.join(', ')}
  --ttl DURATION   lifetime: seconds, or a number with s, m, h or d; from 1s to
                   366d (default 12h)
  --config FILE    configuration naming the JWT secret file (default ${DEFAULT_CONFIG_FILE})
`;

async function main(argv: readonly string[]): Promise<number> {
  try {
    const values = parseOptions(argv, {
      sub: { type: 'string' },
      scopes: { type: 'string' },
      ttl: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean' },
    });
    if (values.help === true) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }

    const subject = stringOption(values, 'sub');
    const scopes = (stringOption(values, 'scopes') ?? '').split(',').filter((s) => s.length > 0);
    if (subject === undefined || scopes.length === 0) {
      throw new AgentError('USAGE_INVALID', 'Both --sub and --scopes are required; see --help');
    }

    if (subject.trim() === '') {
      throw new AgentError('USAGE_INVALID', '--sub is empty; give the name of the token holder');
    }

    const unknown = scopes.find((scope) => !(SCOPES as readonly string[]).includes(scope));
    if (unknown !== undefined) {
      throw new AgentError(
        'USAGE_INVALID',
        `Scope "${unknown}" is unknown; use ${SCOPES.join(', ')}`,
      );
    }

    const ttlSeconds = parseDurationSeconds(stringOption(values, 'ttl', '12h') ?? '');
    if (ttlSeconds < 1) {
      throw new AgentError(
        'USAGE_INVALID',
        `--ttl ${String(values.ttl)} would mint a token that has already expired; use at least 1s`,
      );
    }

    if (ttlSeconds > MAX_TTL_SECONDS) {
      throw new AgentError(
        'USAGE_INVALID',
        `--ttl ${String(values.ttl)} is too long; use at most 366d`,
      );
    }

    const config = await loadControlPlaneConfig(
      stringOption(values, 'config', DEFAULT_CONFIG_FILE) ?? '',
    );
    const secret = await loadOrCreateJwtSecret(config.jwt.secretFile);
    const token = await mintApiToken(
      { secret: secret.value, issuer: config.jwt.issuer, audience: config.jwt.audience },
      {
        subject,
        scopes,
        ttlSeconds,
        now: Date.now(),
      },
    );
    process.stdout.write(`${token}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure('edge-control-plane token', error);
  }
}

export const command: Command = { summary: 'Mint a development JWT for the Scripts API', main };
