import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Fleet } from '../../../src/simulator/fleet/fleet.js';
import type { FleetOptions } from '../../../src/simulator/fleet/options.js';
import { FleetFixture, passwordOf } from '../../support/fleet-fixture.js';
import { connectSsh, execOn } from '../../support/ssh-service.js';

const run = promisify(execFile);

const fixture = new FleetFixture();

let keyDirectory = '';

beforeAll(async () => {
  keyDirectory = await mkdtemp(join(tmpdir(), 'sim-ssh-key-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDirectory, 'id')]);
});

afterEach(() => fixture.cleanup());

afterAll(async () => {
  await fixture.dispose();
  await rm(keyDirectory, { recursive: true, force: true });
});

async function execWithPassword(options: FleetOptions, script: string) {
  const fleet = await fixture.start(options);
  const client = await connectSsh(fleet.inventory()[0]?.ports.ssh ?? 0, {
    username: 'admin+ct',
    password: await passwordOf(fleet),
  });
  fixture.defer(() => client.end());
  return execOn(client, script);
}

/** Runs OpenSSH's client against device 0 with the generated key. */
async function openSsh(fleet: Fleet, script: string, extraOptions: string[] = []) {
  const port = String(fleet.inventory()[0]?.ports.ssh ?? 0);
  const args = [
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    ...extraOptions,
    '-i',
    join(keyDirectory, 'id'),
    '-p',
    port,
    'admin+ct@127.0.0.1',
    script,
  ];
  try {
    const { stdout } = await run('ssh', args, { timeout: 20_000, encoding: 'latin1' });
    return { stdout, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failed.stdout ?? '', stderr: failed.stderr, code: failed.code };
  }
}

describe('SSH exec', () => {
  it('prints output with CRLF', async () => {
    const result = await execWithPassword({}, ':put hello; :put world');

    expect(result.stdout).toBe('hello\r\nworld\r\n');
  });

  it('sends no exit status by default', async () => {
    const result = await execWithPassword({}, ':put hello');

    expect(result.code).toBeUndefined();
  });

  it('sends exit status zero when asked', async () => {
    const result = await execWithPassword({ defaults: { exitStatus: 'zero' } }, ':put hello');

    expect(result.code).toBe(0);
  });

  it('prints the error of a bad script', async () => {
    const result = await execWithPassword({}, 'bash');

    expect(result.stdout).toBe('bad command name bash (line 1 column 1)\r\n');
  });

  it('counts executions on the model', async () => {
    const fleet = await fixture.start();
    const client = await connectSsh(fleet.inventory()[0]?.ports.ssh ?? 0, {
      username: 'admin',
      password: await passwordOf(fleet),
    });
    fixture.defer(() => client.end());

    await execOn(client, ':put 1');
    await execOn(client, ':put 2');

    expect(fleet.device('router-0001').model.executions).toBe(2);
  });
});

describe('OpenSSH client', () => {
  it('runs exec with an Ed25519 key', async () => {
    const fleet = await fixture.start({ defaults: { keyFile: join(keyDirectory, 'id') } });

    const result = await openSsh(fleet, ':put [/system identity get name]');

    expect(result.stdout).toBe('router-0001\r\n');
  });

  it('completes group exchange on strong crypto', async () => {
    const fleet = await fixture.start({
      defaults: { version: '6.49.10', strongCrypto: true, keyFile: join(keyDirectory, 'id') },
    });

    const result = await openSsh(fleet, ':put [/system identity get name]', [
      '-o',
      'KexAlgorithms=diffie-hellman-group-exchange-sha256',
      '-o',
      'HostKeyAlgorithms=+ssh-rsa',
    ]);

    expect(result.stdout).toBe('router-0001\r\n');
  });

  it('runs a 64 KiB script', async () => {
    const fleet = await fixture.start({ defaults: { keyFile: join(keyDirectory, 'id') } });
    const script = `:put [:len "${'x'.repeat(64 * 1024 - 14)}"]`;

    const result = await openSsh(fleet, script);

    expect(result.stdout).toBe(`${64 * 1024 - 14}\r\n`);
  });

  it('fails when the key is not authorized', async () => {
    const fleet = await fixture.start();

    const result = await openSsh(fleet, ':put 1');

    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
  });
});
