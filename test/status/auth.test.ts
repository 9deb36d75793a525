import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/errors.js';
import { authorizationMatches, checkStatusExposure } from '../../src/status/auth.js';

const FILE = '/etc/edge-agent/config.yaml';

/** Returns the AgentError the rule throws for a listen host, or undefined when it allows it. */
function exposure(host: string, tokenFile?: string): AgentError | undefined {
  const status = {
    listen: { host, port: 9181 },
    ...(tokenFile === undefined ? {} : { tokenFile }),
  };
  try {
    checkStatusExposure(status, FILE);
    return undefined;
  } catch (error) {
    if (error instanceof AgentError) {
      return error;
    }

    throw error;
  }
}

describe('checkStatusExposure', () => {
  it.each(['127.0.0.1', '127.0.0.2', '::1', 'localhost'])('allows %s without token', (host) => {
    expect(exposure(host)).toBeUndefined();
  });

  it.each(['0.0.0.0', '::', '192.0.2.10', 'status.example.net'])(
    'rejects %s without token',
    (host) => {
      expect(exposure(host)?.code).toBe('CONFIG_INVALID');
    },
  );

  it('names the token setting', () => {
    const problems = exposure('0.0.0.0')?.details.problems as Array<{ path: string }>;

    expect(problems.map((problem) => problem.path)).toEqual(['status.tokenFile']);
  });

  it('allows any address with token', () => {
    expect(exposure('0.0.0.0', '/run/credentials/status-token')).toBeUndefined();
  });
});

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authorizationMatches', () => {
  it('accepts the exact bearer token', () => {
    expect(authorizationMatches('Bearer s3cret-token', 's3cret-token')).toBe(true);
  });

  it('accepts a lower-case scheme', () => {
    expect(authorizationMatches('bearer s3cret-token', 's3cret-token')).toBe(true);
  });

  it('accepts the token as Basic password', () => {
    expect(authorizationMatches(basic('admin', 's3cret-token'), 's3cret-token')).toBe(true);
  });

  it('accepts Basic with empty user', () => {
    expect(authorizationMatches(basic('', 's3cret-token'), 's3cret-token')).toBe(true);
  });

  it.each([
    ['missing header', undefined],
    ['empty token', 'Bearer '],
    ['prefix of the token', 'Bearer s3cret'],
    ['token with extra text', 'Bearer s3cret-token2'],
    ['Basic without encoding', 'Basic s3cret-token'],
    ['token as Basic user', basic('s3cret-token', '')],
    ['wrong Basic password', basic('admin', 's3cret')],
    ['other scheme', 'Digest s3cret-token'],
  ])('rejects %s', (_case, header) => {
    expect(authorizationMatches(header, 's3cret-token')).toBe(false);
  });
});
