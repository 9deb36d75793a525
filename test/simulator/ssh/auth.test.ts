import { createPrivateKey, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BaseAgent, type ParsedKey, type SignCallback, utils } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';

import { SHELL_REJECTED } from '../../../src/simulator/ssh/exec.js';
import {
  fingerprintOf,
  generateSshKeyPair,
  loadOrCreateHostKeys,
  replaceHostKeys,
} from '../../../src/simulator/ssh/host-keys.js';
import { TEST_PASSWORD, TEST_USER } from '../../support/api-service.js';
import {
  connectSsh,
  type SshServiceOptions,
  startSshService,
  testHostKeys,
} from '../../support/ssh-service.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

function userKey(type: 'rsa' | 'ed25519') {
  const pair = generateSshKeyPair(type);
  const parsed = utils.parseKey(pair.public) as ParsedKey;
  return { privateKey: pair.private, publicKey: parsed };
}

async function start(options: SshServiceOptions = {}): Promise<number> {
  const { server, port } = await startSshService(options);
  cleanups.push(() => server.close());
  return port;
}

/** Connects and returns `ready`, or the ssh2 error level when the connection failed. */
async function attempt(port: number, config: Parameters<typeof connectSsh>[1]) {
  try {
    const client = await connectSsh(port, config);
    client.end();
    return 'ready';
  } catch (error) {
    return (error as { level?: string }).level ?? String(error);
  }
}

/** Connects with the default ssh2 client and returns the fingerprint of the host key it saw. */
async function presentedHostKey(port: number): Promise<string> {
  let presented = '';
  await attempt(port, {
    username: TEST_USER,
    password: TEST_PASSWORD,
    hostVerifier: (key: Buffer) => {
      presented = fingerprintOf(utils.parseKey(key) as ParsedKey);
      return true;
    },
  });

  return presented;
}

/** Offers an authorized public key but signs with a different private key. */
class ImpostorAgent extends BaseAgent<ParsedKey> {
  signatures = 0;

  constructor(
    private readonly offered: ParsedKey,
    private readonly signingKey: string,
  ) {
    super();
  }

  getIdentities(callback: (error: Error | null, keys?: ParsedKey[]) => void): void {
    callback(null, [this.offered]);
  }

  sign(
    _key: ParsedKey,
    data: Buffer,
    options: object | SignCallback,
    callback?: SignCallback,
  ): void {
    const done = typeof options === 'function' ? options : callback;
    const parsed = utils.parseKey(this.signingKey) as ParsedKey;
    this.signatures += 1;
    done?.(null, sign(null, data, createPrivateKey(parsed.getPrivatePEM())));
  }
}

describe('SSH server', () => {
  it('sends the ROSSSH identification', async () => {
    const port = await start();
    const socket = connect({ host: '127.0.0.1', port });
    cleanups.push(() => socket.destroy());

    const line = await new Promise<string>((resolve) => {
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    });

    expect(line).toBe('SSH-2.0-ROSSSH\r\n');
  });

  it('accepts the right password', async () => {
    const port = await start();

    expect(await attempt(port, { username: TEST_USER, password: TEST_PASSWORD })).toBe('ready');
  });

  it('strips login options after plus', async () => {
    const port = await start();

    expect(
      await attempt(port, { username: `${TEST_USER}+cet1024w`, password: TEST_PASSWORD }),
    ).toBe('ready');
  });

  it('rejects a wrong password', async () => {
    const port = await start();

    expect(await attempt(port, { username: TEST_USER, password: 'wrong' })).toBe(
      'client-authentication',
    );
  });

  it('rejects an unknown user', async () => {
    const port = await start();

    expect(await attempt(port, { username: 'nobody', password: TEST_PASSWORD })).toBe(
      'client-authentication',
    );
  });

  it.each(['rsa', 'ed25519'] as const)('accepts an authorized %s key', async (type) => {
    const key = userKey(type);
    const port = await start({ authorizedKeys: [key.publicKey] });

    expect(await attempt(port, { username: `${TEST_USER}+ct`, privateKey: key.privateKey })).toBe(
      'ready',
    );
  });

  it('rejects a signature made with another key', async () => {
    const authorized = userKey('ed25519');
    const port = await start({ authorizedKeys: [authorized.publicKey] });

    const agent = new ImpostorAgent(authorized.publicKey, userKey('ed25519').privateKey);
    expect(await attempt(port, { username: TEST_USER, agent })).toBe('client-authentication');
    expect(agent.signatures).toBeGreaterThan(0);
  });

  it('rejects a key not authorized', async () => {
    const port = await start({ authorizedKeys: [userKey('ed25519').publicKey] });

    expect(
      await attempt(port, { username: TEST_USER, privateKey: userKey('ed25519').privateKey }),
    ).toBe('client-authentication');
  });

  it('rejects password of a key user', async () => {
    const port = await start({ authorizedKeys: [userKey('ed25519').publicKey] });

    expect(await attempt(port, { username: TEST_USER, password: TEST_PASSWORD })).toBe(
      'client-authentication',
    );
  });

  it('accepts password when always allowed', async () => {
    const port = await start({
      authorizedKeys: [userKey('ed25519').publicKey],
      alwaysAllowPasswordLogin: true,
    });

    expect(await attempt(port, { username: TEST_USER, password: TEST_PASSWORD })).toBe('ready');
  });

  it('rejects everyone under auth-fail', async () => {
    const port = await start({ faults: ['auth-fail'] });

    expect(await attempt(port, { username: TEST_USER, password: TEST_PASSWORD })).toBe(
      'client-authentication',
    );
  });

  it('presents the Ed25519 key on RouterOS 7', async () => {
    const port = await start({ profile: 'routeros7' });

    expect(await presentedHostKey(port)).toBe(fingerprintOf(testHostKeys().ed25519.parsed));
  });

  it.each(['ssh-ed25519', 'rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa'])(
    'completes the handshake with a %s host key signature on RouterOS 7',
    async (algorithm) => {
      const port = await start({ profile: 'routeros7' });

      const result = await attempt(port, {
        username: TEST_USER,
        password: TEST_PASSWORD,
        algorithms: { serverHostKey: [algorithm as 'ssh-rsa'] },
      });
      expect(result).toBe('ready');
    },
  );

  it('presents the RSA key on RouterOS 6', async () => {
    const port = await start({ profile: 'routeros6' });

    expect(await presentedHostKey(port)).toBe(fingerprintOf(testHostKeys().rsa.parsed));
  });

  it('offers group1-sha1 on RouterOS 6', async () => {
    const port = await start({ profile: 'routeros6' });

    const result = await attempt(port, {
      username: TEST_USER,
      password: TEST_PASSWORD,
      algorithms: { kex: ['diffie-hellman-group1-sha1'] },
    });

    expect(result).toBe('ready');
  });

  it('keeps only group-exchange-sha256 with strong crypto', async () => {
    const port = await start({ profile: 'routeros6-strong' });
    const config = { username: TEST_USER, password: TEST_PASSWORD };

    expect(
      await attempt(port, { ...config, algorithms: { kex: ['diffie-hellman-group14-sha1'] } }),
    ).toBe('handshake');
    expect(
      await attempt(port, {
        ...config,
        algorithms: { kex: ['diffie-hellman-group-exchange-sha256'] },
      }),
    ).toBe('ready');
  });

  it('completes group exchange with SHA-1', async () => {
    const port = await start({ profile: 'routeros6' });

    const result = await attempt(port, {
      username: TEST_USER,
      password: TEST_PASSWORD,
      algorithms: { kex: ['diffie-hellman-group-exchange-sha1'] },
    });

    expect(result).toBe('ready');
  });

  it('prints a message for a shell request', async () => {
    const port = await start();
    const client = await connectSsh(port, { username: TEST_USER, password: TEST_PASSWORD });
    cleanups.push(() => client.end());

    const stderr = await new Promise<string>((resolve, reject) => {
      client.shell((error, channel) => {
        if (error !== undefined && error !== null) {
          reject(error);
          return;
        }

        const chunks: Buffer[] = [];
        channel.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
        channel.resume();
        channel.on('close', () => resolve(Buffer.concat(chunks).toString()));
      });
    });

    expect(stderr).toBe(`${SHELL_REJECTED}\r\n`);
  });

  it('rejects curve25519 on RouterOS 6', async () => {
    const port = await start({ profile: 'routeros6' });

    const result = await attempt(port, {
      username: TEST_USER,
      password: TEST_PASSWORD,
      algorithms: { kex: ['curve25519-sha256'] },
    });

    expect(result).toBe('handshake');
  });
});

describe('SSH host keys', () => {
  it('persists keys in the state directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sim-host-keys-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));

    const first = await loadOrCreateHostKeys(directory);
    const second = await loadOrCreateHostKeys(directory);

    expect(fingerprintOf(second.rsa.parsed)).toBe(fingerprintOf(first.rsa.parsed));
    expect(fingerprintOf(second.ed25519.parsed)).toBe(fingerprintOf(first.ed25519.parsed));
  });

  it('replaces keys on request', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sim-host-keys-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));

    const first = await loadOrCreateHostKeys(directory);
    await replaceHostKeys(directory);
    const reloaded = await loadOrCreateHostKeys(directory);

    expect(fingerprintOf(reloaded.ed25519.parsed)).not.toBe(fingerprintOf(first.ed25519.parsed));
  });
});
