import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

/** An Ed25519 public key (base64 SPKI) whose private key was discarded; configs only parse it. */
export const TEST_SIGNING_KEY = 'MCowBQYDK2VwAyEAZkpFcKaURp9DvdhcR2CMAFvlwSPhxLfk5LQnLAwZ+C0=';

/** The key id of TEST_SIGNING_KEY: the first 16 hex digits of SHA-256 over its raw bytes. */
export const TEST_SIGNING_KEY_ID = '499d3537377c4f54';

export const TEST_SITE_ID = '6f1d2c1e-8a4b-4c55-9d3e-2b7f0a9c1d42';

/** A configuration file's contents, typed loosely enough for tests to break it. */
export type TestConfig = {
  controlPlane: Record<string, unknown> & { jobSigningKey: Record<string, unknown> };
  deviceDefaults: Record<string, unknown>;
  devices: unknown[];
  [key: string]: unknown;
};

/** Returns a minimal valid configuration file's contents, with secret files relative to it. */
export function minimalConfig(): TestConfig {
  return {
    siteId: TEST_SITE_ID,
    controlPlane: {
      url: 'wss://127.0.0.1:1/agent',
      tokenFile: 'secrets/token',
      jobSigningKey: { keyId: TEST_SIGNING_KEY_ID, publicKey: TEST_SIGNING_KEY },
    },
    deviceDefaults: { username: 'automation', passwordFile: 'secrets/password' },
    devices: [{ id: 'r1', host: '127.0.0.1' }],
  };
}

/** A temporary directory with a configuration file and the secret files it names. */
export type ConfigDirectory = {
  dir: string;
  file: string;
  /** Writes `content` as YAML (objects) or verbatim (strings) to the configuration file. */
  write(content: unknown): Promise<void>;
  /** Writes a secret file relative to the directory. */
  writeSecret(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
};

export async function makeConfigDirectory(): Promise<ConfigDirectory> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-agent-config-'));
  const file = path.join(dir, 'config.yaml');
  const writeSecret = async (name: string, text: string): Promise<string> => {
    const target = path.join(dir, name);
    await writeFile(target, text, { mode: 0o600 });
    return target;
  };

  await mkdir(path.join(dir, 'secrets'));
  await writeSecret('secrets/token', 'site-token\n');
  await writeSecret('secrets/password', 'router-password\n');

  return {
    dir,
    file,
    async write(content) {
      await writeFile(file, typeof content === 'string' ? content : stringify(content));
    },
    writeSecret,
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
