import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/commands/check-config.js';
import { loadConfig } from '../../src/config/load.js';
import { readDeviceCredentials, verifySecrets } from '../../src/config/secrets.js';
import type { DeviceConfig } from '../../src/devices/types.js';
import { generateSshKeyPair } from '../../src/simulator/ssh/host-keys.js';
import { createTestCertificate } from '../support/certificates.js';
import { runEdgeAgent } from '../support/cli.js';
import {
  type ConfigDirectory,
  makeConfigDirectory,
  minimalConfig,
} from '../support/config-files.js';
import { makeDevice } from '../support/devices.js';
import { rejectedError } from '../support/errors.js';

let directory: ConfigDirectory;

beforeEach(async () => {
  directory = await makeConfigDirectory();
});

afterEach(async () => {
  await directory.remove();
});

function device(files: Partial<DeviceConfig>): DeviceConfig {
  return makeDevice('r1', { transport: 'ssh', ...files });
}

describe('readDeviceCredentials', () => {
  it('reads password without trailing newline', async () => {
    const passwordFile = await directory.writeSecret('pw', 'p@ss word\r\n');

    const credentials = await readDeviceCredentials(device({ passwordFile }));

    expect(credentials.password).toBe('p@ss word');
  });

  it('reads key and passphrase files', async () => {
    const keyFile = await directory.writeSecret('key', 'KEY BYTES\n');
    const passphraseFile = await directory.writeSecret('phrase', 'open sesame\n');

    const credentials = await readDeviceCredentials(device({ keyFile, passphraseFile }));

    expect(credentials.privateKey?.toString()).toBe('KEY BYTES\n');
    expect(credentials.passphrase).toBe('open sesame');
  });

  it('names device and file when missing', async () => {
    const passwordFile = path.join(directory.dir, 'absent');

    const error = await rejectedError(readDeviceCredentials(device({ passwordFile })));

    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(error.details).toEqual({ owner: 'device r1', file: passwordFile });
  });

  it('rejects an empty secret file', async () => {
    const passwordFile = await directory.writeSecret('empty', '');

    const error = await rejectedError(readDeviceCredentials(device({ passwordFile })));

    expect(error.code).toBe('SECRET_UNREADABLE');
  });

  it('rejects a directory as secret file', async () => {
    const passwordFile = path.join(directory.dir, 'secrets');

    const error = await rejectedError(readDeviceCredentials(device({ passwordFile })));

    expect(error.code).toBe('SECRET_UNREADABLE');
  });
});

describe('verifySecrets', () => {
  /** Writes a configuration with one SSH device whose key is encrypted with "open sesame". */
  async function writeKeyConfig(passphrase: string): Promise<void> {
    const pair = generateSshKeyPair('ed25519', {
      passphrase: 'open sesame',
      cipher: 'aes256-ctr',
      rounds: 16,
    });
    await directory.writeSecret('secrets/key', pair.private);
    await directory.writeSecret('secrets/phrase', `${passphrase}\n`);
    const config = minimalConfig();
    config.devices = [
      {
        id: 'r1',
        host: '127.0.0.1',
        transport: 'ssh',
        keyFile: 'secrets/key',
        passphraseFile: 'secrets/phrase',
      },
    ];
    await directory.write(config);
  }

  it('accepts readable secrets and parsable key', async () => {
    await writeKeyConfig('open sesame');

    const config = await loadConfig(directory.file, { env: {} });

    await expect(verifySecrets(config)).resolves.toBeUndefined();
  });

  it('rejects key with wrong passphrase', async () => {
    await writeKeyConfig('wrong');

    const error = await rejectedError(verifySecrets(await loadConfig(directory.file, { env: {} })));

    expect(error.code).toBe('SECRET_UNREADABLE');
  });

  it('lists every unreadable secret', async () => {
    const config = minimalConfig();
    config.controlPlane.tokenFile = 'secrets/missing-token';
    config.devices = [
      { id: 'r1', host: '127.0.0.1', passwordFile: 'secrets/missing-1' },
      { id: 'r2', host: '127.0.0.1', passwordFile: 'secrets/missing-2' },
    ];
    await directory.write(config);

    const error = await rejectedError(verifySecrets(await loadConfig(directory.file, { env: {} })));
    const owners = (error.details.failures as Array<{ owner: string }>).map(
      (failure) => failure.owner,
    );

    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(owners).toEqual(['controlPlane', 'device r1', 'device r2']);
  });

  it('names every device of a shared file', async () => {
    const config = minimalConfig();
    config.deviceDefaults = { username: 'admin', passwordFile: 'secrets/missing-shared' };
    config.devices = [
      { id: 'r1', host: '127.0.0.1' },
      { id: 'r2', host: '127.0.0.1' },
      { id: 'r3', host: '127.0.0.1' },
    ];
    await directory.write(config);

    const error = await rejectedError(verifySecrets(await loadConfig(directory.file, { env: {} })));
    const owners = (error.details.failures as Array<{ owner: string }>).map(
      (failure) => failure.owner,
    );

    expect(error.code).toBe('SECRET_UNREADABLE');
    expect(owners).toEqual(['device r1', 'device r2', 'device r3']);
  });

  it('reads secrets from credentials directory', async () => {
    const credentialsDirectory = path.join(directory.dir, 'credentials');
    await mkdir(credentialsDirectory, { mode: 0o700 });
    await directory.writeSecret('credentials/router-password', 'from systemd\n');
    const config = minimalConfig();
    config.deviceDefaults = { username: 'automation', passwordCredential: 'router-password' };
    await directory.write(config);

    const loaded = await loadConfig(directory.file, {
      env: { CREDENTIALS_DIRECTORY: credentialsDirectory },
    });
    const firstDevice = loaded.devices[0];
    if (firstDevice === undefined) {
      throw new Error('expected one device');
    }

    expect((await readDeviceCredentials(firstDevice)).password).toBe('from systemd');
  });
});

describe('check-config command', () => {
  it('accepts the annotated example', async () => {
    const example = path.resolve(import.meta.dirname, '../../config/edge-agent.example.yaml');

    expect(await checkConfigCommand.main(['--config', example])).toBe(0);
  });

  it('exits 2 on invalid configuration', async () => {
    await directory.write({ siteId: 'x' });

    expect(await checkConfigCommand.main(['--config', directory.file])).toBe(2);
  });

  it('exits 2 on missing file', async () => {
    expect(await checkConfigCommand.main(['--config', path.join(directory.dir, 'none.yaml')])).toBe(
      2,
    );
  });

  it('exits 2 on unreadable secret', async () => {
    await directory.writeSecret('secrets/empty-token', '');
    const config = minimalConfig();
    config.controlPlane.tokenFile = 'secrets/empty-token';
    await directory.write(config);

    expect(await checkConfigCommand.main(['--config', directory.file])).toBe(2);
  });

  it('reads credentials from CREDENTIALS_DIRECTORY', async () => {
    await mkdir(path.join(directory.dir, 'credentials'));
    await directory.writeSecret('credentials/site-token', 'token\n');
    await directory.writeSecret('credentials/device_r1-password', 'secret\n');
    const config = minimalConfig();
    config.controlPlane.tokenFile = undefined;
    config.controlPlane.tokenCredential = 'site-token';
    config.deviceDefaults.passwordFile = undefined;
    config.deviceDefaults.passwordCredential = 'device_r1-password';
    await directory.write(config);

    const withoutDirectory = await runEdgeAgent(['check-config', '--config', directory.file], {
      CREDENTIALS_DIRECTORY: '',
    });
    const withDirectory = await runEdgeAgent(['check-config', '--config', directory.file], {
      CREDENTIALS_DIRECTORY: path.join(directory.dir, 'credentials'),
    });

    expect(withoutDirectory.code).toBe(2);
    expect(withDirectory.code).toBe(0);
  });

  it.each([
    ['a missing CA file', null],
    ['a CA file without PEM', 'not a certificate\n'],
    ['a broken PEM certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
  ])('exits 2 on %s', async (_name, text) => {
    if (text !== null) {
      await directory.writeSecret('ca.pem', text);
    }

    const config = minimalConfig();
    config.controlPlane.caFile = 'ca.pem';
    await directory.write(config);

    expect(await checkConfigCommand.main(['--config', directory.file])).toBe(2);
  });

  it('accepts a PEM CA file', async () => {
    await createTestCertificate(directory.dir, 'ca');
    const config = minimalConfig();
    config.controlPlane.caFile = 'ca.crt';
    await directory.write(config);

    expect(await checkConfigCommand.main(['--config', directory.file])).toBe(0);
  });

  it('exits 2 on unknown option', async () => {
    expect(await checkConfigCommand.main(['--conifg', 'x'])).toBe(2);
  });
});
