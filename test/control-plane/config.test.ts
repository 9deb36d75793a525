import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseControlPlaneConfig } from '../../src/control-plane/config.js';
import { ControlPlane } from '../../src/control-plane/server.js';
import { AgentError } from '../../src/errors.js';

const MINIMAL = {
  database: 'cp.db',
  jwt: { secretFile: 'jwt.secret' },
  signingKeyFile: 'signing.pem',
};

/** Parses `value` and returns the error it raised, or undefined when it parsed. */
function parseError(value: unknown): AgentError | undefined {
  try {
    parseControlPlaneConfig(value, 'cp.yaml', '/etc/edge');
  } catch (error) {
    if (error instanceof AgentError) {
      return error;
    }

    throw error;
  }

  return undefined;
}

describe('control plane configuration', () => {
  it('accepts the minimal configuration', () => {
    expect(parseError(MINIMAL)).toBeUndefined();
  });

  it('rejects an unknown nested key', () => {
    const error = parseError({ ...MINIMAL, listen: { port: 0, foo: 1 } });

    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.details.field).toBe('listen.foo');
  });

  it('rejects an unknown top-level key', () => {
    const error = parseError({ ...MINIMAL, databse: 'typo.db' });

    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.details.field).toBe('databse');
  });

  it('reports a missing section', () => {
    const { jwt: _jwt, ...withoutJwt } = MINIMAL;
    const error = parseError(withoutJwt);

    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.details.problems).toEqual([
      {
        path: 'jwt',
        expected: 'a mapping of keys to values',
        found: 'nothing (the setting is missing)',
      },
    ]);
  });

  it('reports every unknown key', () => {
    const error = parseError({ ...MINIMAL, foo: 1, bar: 2, listen: { baz: 3 } });
    const problems = error?.details.problems as Array<{ path: string }> | undefined;

    expect(problems?.map((problem) => problem.path).sort()).toEqual(['bar', 'foo', 'listen.baz']);
  });

  it('rejects an unknown site key', () => {
    const site = {
      id: '7d3c1d2e-3f4a-4b5c-8d6e-9f0a1b2c3d4e',
      name: 'Branch',
      tokenHash: `sha256:${'0'.repeat(64)}`,
      token: 'plain',
    };
    const error = parseError({ ...MINIMAL, sites: [site] });

    expect(error?.details.field).toBe('sites[0].token');
  });
});

describe('control plane start', () => {
  it('names a missing certificate file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-tls-'));
    const tls = { certFile: 'nope.crt', keyFile: 'nope.key' };
    const config = parseControlPlaneConfig(
      { ...MINIMAL, database: ':memory:', listen: { port: 0, tls } },
      'cp.yaml',
      dir,
    );
    try {
      const error = await ControlPlane.start({ config }).then(
        () => undefined,
        (reason: unknown) => reason as AgentError,
      );

      expect(error?.code).toBe('CONFIG_INVALID');
      expect(error?.details.field).toBe('listen.tls.certFile');
      expect(error?.details.file).toBe(path.join(dir, 'nope.crt'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
