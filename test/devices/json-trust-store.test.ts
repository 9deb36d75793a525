import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { defaultKnownHostsPath, JsonFileTrustStore } from '../../src/devices/json-trust-store.js';
import { thrownCode } from '../support/errors.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'edge-known-hosts-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JsonFileTrustStore', () => {
  it('starts empty without a file', () => {
    const store = new JsonFileTrustStore(path.join(dir, 'known-hosts.json'));
    expect(store.get('r1', 'ssh-host-key')).toBeUndefined();
  });

  it('keeps pins across instances', () => {
    const file = path.join(dir, 'nested', 'known-hosts.json');
    new JsonFileTrustStore(file).pin('r1', 'ssh-host-key', 'SHA256:abc');
    new JsonFileTrustStore(file).pin('r1', 'tls-certificate', 'AA:BB');
    const reread = new JsonFileTrustStore(file);
    expect(reread.get('r1', 'ssh-host-key')).toBe('SHA256:abc');
    expect(reread.get('r1', 'tls-certificate')).toBe('AA:BB');
  });

  it('writes the file readable by its owner only', async () => {
    const file = path.join(dir, 'known-hosts.json');
    new JsonFileTrustStore(file).pin('r1', 'ssh-host-key', 'SHA256:abc');
    const { mode } = await stat(file);
    expect(mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(1);
  });

  it('rejects a file that is not JSON', async () => {
    const file = path.join(dir, 'known-hosts.json');
    await writeFile(file, '{ not json');
    expect(thrownCode(() => new JsonFileTrustStore(file))).toBe('CONFIG_INVALID');
  });

  it('rejects pins of an unknown kind', async () => {
    const file = path.join(dir, 'known-hosts.json');
    await writeFile(file, JSON.stringify({ version: 1, pins: { r1: { telnet: 'x' } } }));
    expect(thrownCode(() => new JsonFileTrustStore(file))).toBe('CONFIG_INVALID');
  });
});

describe('defaultKnownHostsPath', () => {
  it('uses XDG_STATE_HOME when set', () => {
    expect(defaultKnownHostsPath({ XDG_STATE_HOME: '/state' })).toBe(
      '/state/edge-agent/known-hosts.json',
    );
  });

  it('falls back to ~/.local/state', () => {
    expect(defaultKnownHostsPath({})).toBe(
      path.join(os.homedir(), '.local', 'state', 'edge-agent', 'known-hosts.json'),
    );
  });
});
