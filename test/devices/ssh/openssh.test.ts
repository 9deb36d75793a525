import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { readDeviceCredentials } from '../../../src/config/secrets.js';
import { MAX_SSH_SCRIPT_BYTES, openSshSession } from '../../../src/devices/ssh/session.js';
import type { DeviceConfig, DeviceSession, SessionContext } from '../../../src/devices/types.js';
import { createSilentLogger } from '../../../src/logging.js';
import type { RouterOsDevice } from '../../../src/simulator/model/device.js';
import { temporaryTrustStore } from '../../support/device-fleet.js';
import { rejectedError } from '../../support/errors.js';
import {
  type OpenSshServer,
  type OpenSshServerOptions,
  startOpenSshServer,
} from '../../support/openssh-server.js';
import { buildDevice } from '../../support/simulated-device.js';

/**
 * The SSH transport against a real OpenSSH sshd on loopback, whose ForceCommand hands every exec
 * command, as raw bytes, to the simulator's script interpreter in this process.
 */

const run = promisify(execFile);

/** Prints what a console prints: the output, then the error of a failed script, CRLF line ends. */
function interpreterHandler(device: RouterOsDevice) {
  return async (command: Buffer, signal: AbortSignal): Promise<Buffer> => {
    const result = await device.runScript(command.toString('latin1'), { signal, origin: 'ssh' });
    const failure = result.failure === undefined ? '' : `${result.failure.message}\n`;
    return Buffer.from(`${result.output}${failure}`.replace(/\r?\n/g, '\r\n'), 'latin1');
  };
}

function deviceConfig(server: OpenSshServer, overrides: Partial<DeviceConfig> = {}): DeviceConfig {
  return {
    id: 'sshd',
    name: 'sshd',
    host: '127.0.0.1',
    transport: 'ssh',
    ports: { api: 8728, apiSsl: 8729, ssh: server.port },
    username: server.user,
    codePage: 'windows-1252',
    tags: [],
    tls: { mode: 'certificate' },
    // OpenSSH knows no RouterOS terminal options, so the login name carries none.
    ssh: { loginOptions: '' },
    ...overrides,
  };
}

type Pins = Awaited<ReturnType<typeof temporaryTrustStore>>;

async function contextFor(
  server: OpenSshServer,
  pins: Pins,
  overrides: Partial<SessionContext> = {},
): Promise<SessionContext> {
  return {
    credentials: { privateKey: await readFile(server.clientKeyPath) },
    trust: pins.store,
    logger: createSilentLogger(),
    clock: systemClock,
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 10_000,
    ...overrides,
  };
}

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

describe('SSH transport against OpenSSH', () => {
  let device: RouterOsDevice;
  let server: OpenSshServer;
  let pins: Pins;
  let session: DeviceSession;

  beforeAll(async () => {
    device = buildDevice({ version: '7.18.2', identity: 'sshd-router' });
    server = await startOpenSshServer({ handleCommand: interpreterHandler(device) });
    pins = await temporaryTrustStore();
    session = await openSshSession(deviceConfig(server), await contextFor(server, pins));
  });

  afterAll(async () => {
    await session?.close();
    await server?.stop();
    await pins?.remove();
  });

  it('identifies the device', () => {
    expect(session.facts.version).toBe('7.18.2 (stable)');
    expect(session.facts.identity).toBe('sshd-router');
  });

  it('pins the host key on first use', () => {
    expect(pins.store.get('sshd', 'ssh-host-key')).toBe(server.hostKeyFingerprint);
  });

  it('runs a script', async () => {
    const result = await session.run(':put "one"\n:put (1 + 2)', { timeoutMs: 10_000 });
    expect(result.status).toBe('succeeded');
    expect(result.output).toBe('one\r\n3\r\n');
  });

  it('reports a syntax error position', async () => {
    const result = await session.run(':put "a"\n:put (', { timeoutMs: 10_000 });
    expect(result.error?.code).toBe('SCRIPT_SYNTAX_ERROR');
    expect(result.error?.line).toBe(2);
    expect(result.error?.column).toBe(7);
  });

  it('reports a runtime error', async () => {
    const result = await session.run(':put "before"\n:error "stopped here"', { timeoutMs: 10_000 });
    expect(result.error?.code).toBe('SCRIPT_FAILED');
    expect(result.output.startsWith('before\r\n')).toBe(true);
  });

  it('sends ö as one windows-1252 byte', async () => {
    const result = await session.run('/system identity set name="ö"', { timeoutMs: 10_000 });
    const identity = device.identity;
    await session.run('/system identity set name=sshd-router', { timeoutMs: 10_000 });
    expect(result.status).toBe('succeeded');
    expect(identity).toBe('\xf6');
  });

  it('decodes output with the code page', async () => {
    const result = await session.run(':put "Grüße €"', { timeoutMs: 10_000 });
    expect(result.output).toBe('Grüße €\r\n');
  });

  it('rejects ж in windows-1252 unsent', async () => {
    const sent = server.commands.length;
    const result = await session.run(':put "ж"', { timeoutMs: 10_000 });
    expect(result.error?.code).toBe('ENCODING_ERROR');
    expect(server.commands.length).toBe(sent);
  });

  it('rejects a script over 32 KiB unsent', async () => {
    const sent = server.commands.length;
    const script = `${`# ${'x'.repeat(60)}\n`.repeat(1200)}:put "long"`;
    const result = await session.run(script, { timeoutMs: 10_000 });
    expect(result.error?.code).toBe('UNSUPPORTED');
    expect(server.commands.length).toBe(sent);
  });

  it('runs a script at the SSH limit', async () => {
    const head = ':put "at the limit"\n#';
    const script = `${head}${'x'.repeat(MAX_SSH_SCRIPT_BYTES - head.length)}`;
    const result = await session.run(script, { timeoutMs: 10_000 });
    expect(result.output).toBe('at the limit\r\n');
  });

  it('rejects one byte over the limit unsent', async () => {
    const sent = server.commands.length;
    const script = `#${'x'.repeat(MAX_SSH_SCRIPT_BYTES)}`;
    const result = await session.run(script, { timeoutMs: 10_000 });
    expect(result.error?.code).toBe('UNSUPPORTED');
    expect(server.commands.length).toBe(sent);
  });

  it('documents the SSH script limit', () => {
    expect(MAX_SSH_SCRIPT_BYTES).toBe(32_472);
  });

  it('times out and stops a script', async () => {
    const result = await session.run(':delay 1s\n/system script add name=after-timeout', {
      timeoutMs: 200,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const check = await session.run(':put [:len [/system script find name=after-timeout]]', {
      timeoutMs: 10_000,
    });
    expect(result.error?.code).toBe('TIMEOUT');
    expect(check.output).toBe('0\r\n');
  });

  it('cancels and stops a script', async () => {
    const controller = new AbortController();
    const running = session.run(':delay 1s\n/system script add name=after-cancel', {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const result = await running;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const check = await session.run(':put [:len [/system script find name=after-cancel]]', {
      timeoutMs: 10_000,
    });
    expect(result.error?.code).toBe('CANCELLED');
    expect(check.output).toBe('0\r\n');
  });

  it('exports the configuration', async () => {
    const exported = await session.exportConfig({ timeoutMs: 10_000 });
    expect(exported).toContain('set name=sshd-router');
  });
});

describe('SSH transport code pages against OpenSSH', () => {
  it('sends ж as one windows-1251 byte', async () => {
    const device = buildDevice({ version: '6.49.10' });
    const server = await startOpenSshServer({ handleCommand: interpreterHandler(device) });
    cleanups.push(() => server.stop());
    const pins = await temporaryTrustStore();
    cleanups.push(() => pins.remove());

    const config = deviceConfig(server, { codePage: 'windows-1251' });
    const session = await openSshSession(config, await contextFor(server, pins));
    cleanups.push(() => session.close());
    const result = await session.run(':put "жук"', { timeoutMs: 10_000 });
    const expected = Buffer.from(':put "\xe6\xf3\xea"\r\n', 'latin1');
    expect(server.commands.at(-1)?.subarray(0, expected.length)).toEqual(expected);
    expect(result.output).toBe('жук\r\n');
  });
});

describe('SSH transport keys against OpenSSH', () => {
  it('rejects a changed host key', async () => {
    const device = buildDevice({ version: '7.17' });
    const pins = await temporaryTrustStore();
    cleanups.push(() => pins.remove());

    const first = await startOpenSshServer({ handleCommand: interpreterHandler(device) });
    const firstSession = await openSshSession(deviceConfig(first), await contextFor(first, pins));
    await firstSession.close();
    await first.stop();

    // The same device id now answers with another host key, as after a router was replaced.
    const second = await startOpenSshServer({ handleCommand: interpreterHandler(device) });
    cleanups.push(() => second.stop());
    const failure = openSshSession(deviceConfig(second), await contextFor(second, pins));
    expect((await rejectedError(failure)).code).toBe('HOST_KEY_MISMATCH');
    expect(pins.store.get('sshd', 'ssh-host-key')).toBe(first.hostKeyFingerprint);
  });

  it('logs in with a passphrase-protected key', async () => {
    const device = buildDevice({ version: '7.17' });
    const server = await startOpenSshServer({
      handleCommand: interpreterHandler(device),
      clientKeyPassphrase: 'correct horse',
    });
    cleanups.push(() => server.stop());
    const pins = await temporaryTrustStore();
    cleanups.push(() => pins.remove());

    const context = await contextFor(server, pins);
    context.credentials.passphrase = 'correct horse';
    const session = await openSshSession(deviceConfig(server), context);
    cleanups.push(() => session.close());
    expect(session.facts.version.startsWith('7.17')).toBe(true);
  });

  it('reports an unknown key as AUTH_FAILED', async () => {
    const device = buildDevice({ version: '7.17' });
    const server = await startOpenSshServer({ handleCommand: interpreterHandler(device) });
    cleanups.push(() => server.stop());
    const pins = await temporaryTrustStore();
    cleanups.push(() => pins.remove());

    const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-key-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const keyPath = path.join(dir, 'other');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);

    const context = await contextFor(server, pins, {
      credentials: { privateKey: await readFile(keyPath) },
    });
    const failure = openSshSession(deviceConfig(server), context);
    expect((await rejectedError(failure)).code).toBe('AUTH_FAILED');
  });

  it('rejects a wrong passphrase after a login', async () => {
    const { server, pins } = await startKeyServer({ clientKeyPassphrase: 'correct horse' });
    const context = await contextFor(server, pins);
    context.credentials.passphrase = 'correct horse';
    const session = await openSshSession(deviceConfig(server), context);
    await session.close();

    context.credentials.passphrase = 'wrong horse';
    const failure = openSshSession(deviceConfig(server), context);
    expect((await rejectedError(failure)).code).toBe('SECRET_UNREADABLE');
  });

  it('uses the new key after the key file changes', async () => {
    const { server, pins } = await startKeyServer({});
    const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-key-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const keyFile = path.join(dir, 'device_key');
    await copyFile(server.clientKeyPath, keyFile);
    const config = deviceConfig(server, { keyFile });
    const contextNow = async () => ({
      ...(await contextFor(server, pins)),
      credentials: await readDeviceCredentials(config),
    });

    const first = await openSshSession(config, await contextNow());
    await first.close();
    // The file now contains a key the server does not accept, as after a rotation on disk.
    await rm(keyFile);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const failure = openSshSession(config, await contextNow());
    expect((await rejectedError(failure)).code).toBe('AUTH_FAILED');
  });

  it.each(['rsa', 'ecdsa'] as const)('logs in with an %s key', async (clientKeyType) => {
    const { server, pins } = await startKeyServer({ clientKeyType });
    const session = await openSshSession(deviceConfig(server), await contextFor(server, pins));
    cleanups.push(() => session.close());
    expect(session.facts.version.startsWith('7.17')).toBe(true);
  });
});

/** Starts an sshd for a RouterOS 7.17 device and a trust store, both removed after the test. */
async function startKeyServer(
  options: Omit<OpenSshServerOptions, 'handleCommand'>,
): Promise<{ server: OpenSshServer; pins: Pins }> {
  const device = buildDevice({ version: '7.17' });
  const server = await startOpenSshServer({
    ...options,
    handleCommand: interpreterHandler(device),
  });
  cleanups.push(() => server.stop());
  const pins = await temporaryTrustStore();
  cleanups.push(() => pins.remove());
  return { server, pins };
}
