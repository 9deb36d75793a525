import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { command as keygen } from '../../src/cli/control-plane/keygen.js';
import { withDefaultCommand } from '../../src/cli/control-plane/options.js';
import { command as serve } from '../../src/cli/control-plane/serve.js';
import { command as siteToken } from '../../src/cli/control-plane/site-token.js';
import { command as token } from '../../src/cli/control-plane/token.js';
import { loadControlPlaneConfig } from '../../src/control-plane/config.js';
import { verifyApiToken } from '../../src/control-plane/http/auth.js';
import { hashSiteToken, loadOrCreateJwtSecret } from '../../src/control-plane/secrets.js';
import { ControlPlane } from '../../src/control-plane/server.js';
import { parsePublicKey } from '../../src/protocol/signing.js';

let dir: string;
let output: string[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-cli-'));
  output = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    output.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    output.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Writes a minimal configuration followed by `extra` YAML lines, and returns its path. */
async function writeConfig(extra = ''): Promise<string> {
  const file = path.join(dir, 'cp.yaml');
  await writeFile(
    file,
    `database: cp.db\njwt: { secretFile: jwt.secret }\nsigningKeyFile: keys/signing.pem\n${extra}`,
  );
  return file;
}

describe('edge-control-plane commands', () => {
  it('bare --config means serve', () => {
    expect(withDefaultCommand(['--config', 'x.yaml'])).toEqual(['serve', '--config', 'x.yaml']);
    expect(withDefaultCommand(['--config=x.yaml'])).toEqual(['serve', '--config=x.yaml']);
    expect(withDefaultCommand(['token', '--config', 'x'])).toEqual(['token', '--config', 'x']);
  });

  it('keygen creates a private key file', async () => {
    const config = await writeConfig();

    const code = await keygen.main(['--config', config]);

    const printed = /Public key: (\S+)/.exec(output.join(''))?.[1] ?? '';
    const mode = (await stat(path.join(dir, 'keys/signing.pem'))).mode & 0o777;
    expect(code).toBe(0);
    expect(mode).toBe(0o600);
    expect(parsePublicKey(printed).keyId).toHaveLength(16);
  });

  it('token mints a verifiable JWT', async () => {
    const config = await writeConfig();

    const code = await token.main([
      '--sub',
      'alice',
      '--scopes',
      'script:view,script:run',
      '--config',
      config,
      '--ttl',
      '5m',
    ]);

    const secret = await loadOrCreateJwtSecret(path.join(dir, 'jwt.secret'));
    const principal = await verifyApiToken(
      output.join('').trim(),
      { secret: secret.value, issuer: 'edge-control-plane', audience: 'scripts-api' },
      Date.now(),
    );
    expect(code).toBe(0);
    expect(principal.subject).toBe('alice');
    expect([...principal.scopes]).toEqual(['script:view', 'script:run']);
  });

  it('token rejects unknown scopes', async () => {
    const config = await writeConfig();

    const code = await token.main([
      '--sub',
      'alice',
      '--scopes',
      'script:everything',
      '--config',
      config,
    ]);

    expect(code).toBe(2);
    expect(output.join('')).toContain('USAGE_INVALID');
  });

  it('token rejects a zero ttl', async () => {
    const config = await writeConfig();

    const code = await token.main([
      '--sub',
      'alice',
      '--scopes',
      'script:view',
      '--config',
      config,
      '--ttl',
      '0',
    ]);

    expect(code).toBe(2);
    expect(output.join('')).toContain('USAGE_INVALID');
  });

  it.each([
    ['an overlong ttl', ['--sub', 'alice', '--ttl', '99999999999999d']],
    ['a ttl over 366 days', ['--sub', 'alice', '--ttl', '367d']],
    ['an empty subject', ['--sub', '']],
  ])('token rejects %s', async (_case, args) => {
    const config = await writeConfig();

    const code = await token.main([...args, '--scopes', 'script:view', '--config', config]);

    expect(code).toBe(2);
    expect(output.join('')).toContain('USAGE_INVALID');
  });

  it('serve exits 2 on an unknown key', async () => {
    const config = await writeConfig('listen: { port: 0, foo: 1 }\n');

    const code = await serve.main(['--config', config]);

    expect(code).toBe(2);
    expect(output.join('')).toContain('CONFIG_INVALID');
  });

  it('serve exits 2 on a missing certificate', async () => {
    const config = await writeConfig(
      'listen: { port: 0, tls: { certFile: nope.crt, keyFile: nope.key } }\n',
    );

    const code = await serve.main(['--config', config]);

    expect(code).toBe(2);
    expect(output.join('')).toContain('CONFIG_INVALID');
  });

  it('serve creates nothing before TLS fails', async () => {
    const config = await writeConfig(
      'listen: { port: 0, tls: { certFile: nope.crt, keyFile: nope.key } }\n',
    );

    await serve.main(['--config', config]);

    expect(await readdir(dir)).toEqual(['cp.yaml']);
  });

  it('serve exits 1 on a locked database', async () => {
    const config = await writeConfig('listen: { port: 0 }\n');
    const first = await ControlPlane.start({ config: await loadControlPlaneConfig(config) });

    try {
      const code = await serve.main(['--config', config]);

      const reader = new Database(path.join(dir, 'cp.db'), { readonly: true });
      const sites = reader.prepare('SELECT COUNT(*) AS count FROM sites').get();
      reader.close();
      expect(code).toBe(1);
      expect(sites).toEqual({ count: 0 });
      expect(output.join('')).toContain('STORE_LOCKED');
      expect(output.join('')).toContain(path.join(dir, 'cp.db'));
    } finally {
      await first.stop();
    }
  });

  it('site-token prints a token and its hash', async () => {
    const code = await siteToken.main([]);

    const text = output.join('');
    const tokenValue = /Agent token: (\S+)/.exec(text)?.[1] ?? '';
    const hash = /tokenHash: (\S+)/.exec(text)?.[1];
    expect(code).toBe(0);
    expect(tokenValue.length).toBeGreaterThanOrEqual(43);
    expect(hash).toBe(hashSiteToken(tokenValue));
  });
});
