import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

import { loadConfig } from '../../src/config/load.js';
import type { ConfigProblem } from '../../src/config/problems.js';
import { AgentError, type ErrorCode } from '../../src/errors.js';
import {
  type ConfigDirectory,
  makeConfigDirectory,
  minimalConfig,
  type TestConfig,
} from '../support/config-files.js';

/** Loads the file and returns the thrown AgentError, failing the test when none is thrown. */
async function loadError(
  directory: ConfigDirectory,
  env: NodeJS.ProcessEnv = {},
): Promise<AgentError> {
  try {
    await loadConfig(directory.file, { env, cwd: directory.dir });
  } catch (error) {
    if (error instanceof AgentError) {
      return error;
    }

    throw error;
  }

  throw new Error('expected loadConfig to throw');
}

function problemPaths(error: AgentError): string[] {
  const problems = error.details.problems as ConfigProblem[];
  return problems.map((problem) => problem.path).sort();
}

/** Applies `change` to a fresh minimal configuration. */
function edited(change: (config: TestConfig) => void): TestConfig {
  const config = minimalConfig();
  change(config);
  return config;
}

let directory: ConfigDirectory;

beforeEach(async () => {
  directory = await makeConfigDirectory();
});

afterEach(async () => {
  await directory.remove();
});

describe('loadConfig', () => {
  it.each(['192.0.2.1', '2001:db8::1', 'router-1.example.net', 'r1'])(
    'accepts device host %s',
    async (host) => {
      await directory.write(
        edited((config) => Object.assign(config, { devices: [{ id: 'r1', host }] })),
      );

      const config = await loadConfig(directory.file, { env: {}, cwd: directory.dir });

      expect(config.devices[0]?.host).toBe(host);
    },
  );

  it.each([
    'ws://127.0.0.1:1/agent/v1',
    'ws://127.8.9.10/agent/v1',
    'ws://[::1]:1/agent/v1',
    'ws://localhost:1/agent/v1',
  ])('accepts plain %s without allowInsecure', async (url) => {
    await directory.write(edited((config) => Object.assign(config.controlPlane, { url })));

    const config = await loadConfig(directory.file, { env: {}, cwd: directory.dir });

    expect(config.controlPlane.url).toBe(url);
  });

  it('applies defaults to minimal file', async () => {
    await directory.write(minimalConfig());

    const config = await loadConfig(directory.file, { env: {}, cwd: directory.dir });

    expect(config.runs.concurrency).toBe(16);
    expect(config.runs.outputCapBytes).toBe(262_144);
    expect(config.status.listen).toEqual({ host: '127.0.0.1', port: 9181 });
    expect(config.store.path).toBe('/var/lib/edge-agent/agent.db');
    expect(config.logLevel).toBe('info');
    expect(config.controlPlane.allowInsecure).toBe(false);
    expect(config.controlPlane.jobSigningKey.publicKeyPem).toContain('BEGIN PUBLIC KEY');
  });

  it('resolves secret paths against file directory', async () => {
    await directory.write(minimalConfig());

    const config = await loadConfig(directory.file, { env: {}, cwd: '/' });

    expect(config.controlPlane.tokenFile).toBe(path.join(directory.dir, 'secrets/token'));
    expect(config.devices[0]?.passwordFile).toBe(path.join(directory.dir, 'secrets/password'));
  });

  it('merges device defaults into devices', async () => {
    await directory.write(
      edited((config) => {
        config.deviceDefaults = {
          username: 'automation',
          passwordFile: 'secrets/password',
          transport: 'api-ssl',
          ports: { apiSsl: 18729 },
          tls: { mode: 'anonymous' },
          tags: ['site-a'],
        };
        config.devices = [
          { id: 'r1', host: '127.0.0.1' },
          { id: 'r2', host: '127.0.0.2', transport: 'ssh', port: 2222, tags: ['edge'] },
        ];
      }),
    );

    const [first, second] = (await loadConfig(directory.file, { env: {} })).devices;

    expect(first?.transport).toBe('api-ssl');
    expect(first?.ports).toEqual({ api: 8728, apiSsl: 18729, ssh: 22 });
    expect(first?.tls.mode).toBe('anonymous');
    expect(first?.tags).toEqual(['site-a']);
    expect(first?.name).toBe('r1');
    expect(first?.codePage).toBe('windows-1252');
    expect(second?.transport).toBe('ssh');
    expect(second?.ports.ssh).toBe(2222);
    expect(second?.tags).toEqual(['edge']);
    expect(second?.username).toBe('automation');
    expect(second?.ssh.loginOptions).toBe('ct');
  });

  it('lets a device replace the default secret source', async () => {
    await directory.write(
      edited((config) => {
        config.devices = [{ id: 'r1', host: '127.0.0.1', passwordCredential: 'r1-password' }];
      }),
    );

    const config = await loadConfig(directory.file, {
      env: { CREDENTIALS_DIRECTORY: '/run/creds' },
    });

    expect(config.devices[0]?.passwordFile).toBe('/run/creds/r1-password');
  });

  it('reads secrets from credentials directory', async () => {
    await directory.write(
      edited((config) => {
        config.controlPlane.tokenFile = undefined;
        config.controlPlane.tokenCredential = 'site-token';
      }),
    );

    const config = await loadConfig(directory.file, {
      env: { CREDENTIALS_DIRECTORY: '/run/credentials/edge-agent.service' },
    });

    expect(config.controlPlane.tokenFile).toBe('/run/credentials/edge-agent.service/site-token');
  });

  it('applies environment overrides', async () => {
    await directory.write(minimalConfig());
    const siteId = '0b9e7c52-3d43-4f0e-8a61-5c2d9e4b7a10';

    const config = await loadConfig(directory.file, {
      cwd: '/srv/agent',
      env: {
        EDGE_AGENT_SITE_ID: siteId,
        EDGE_AGENT_CONTROL_PLANE_URL: 'ws://127.0.0.1:7000/agent',
        EDGE_AGENT_ALLOW_INSECURE: 'true',
        EDGE_AGENT_STORE_PATH: 'data/agent.db',
        EDGE_AGENT_LOG_LEVEL: 'debug',
        EDGE_AGENT_STATUS_LISTEN: '[::1]:0',
        EDGE_AGENT_CONCURRENCY: '4',
        EDGE_AGENT_CONTROL_PLANE_TOKEN_FILE: '/etc/edge-agent/token',
      },
    });

    expect(config.siteId).toBe(siteId);
    expect(config.controlPlane.url).toBe('ws://127.0.0.1:7000/agent');
    expect(config.controlPlane.allowInsecure).toBe(true);
    expect(config.store.path).toBe('/srv/agent/data/agent.db');
    expect(config.logLevel).toBe('debug');
    expect(config.status.listen).toEqual({ host: '::1', port: 0 });
    expect(config.runs.concurrency).toBe(4);
    expect(config.controlPlane.tokenFile).toBe('/etc/edge-agent/token');
  });

  it('reports missing file as not found', async () => {
    const error = await loadError(directory);

    expect(error.code).toBe('CONFIG_NOT_FOUND');
  });

  it('reports YAML syntax errors', async () => {
    await directory.write('siteId: [unclosed\n');

    const error = await loadError(directory);

    expect(error.code).toBe('CONFIG_INVALID');
    expect(problemPaths(error)).toEqual(['(file)']);
  });

  it('rejects a file of two documents', async () => {
    await directory.write('siteId: a\n---\nsiteId: b\n');

    const error = await loadError(directory);

    expect(error.code).toBe('CONFIG_INVALID');
    expect(problemPaths(error)).toEqual(['(file)']);
  });

  it('reports an empty file as missing settings', async () => {
    await directory.write('# nothing configured yet\n');

    const error = await loadError(directory);

    expect(error.code).toBe('CONFIG_INVALID');
    expect(problemPaths(error)).toEqual(['(top level)']);
  });

  it('rejects more aliases than the limit', async () => {
    const aliases = Array.from({ length: 101 }, (_, index) => `  - *host # ${index}`);
    await directory.write(`hosts:\n  - &host 127.0.0.1\n${aliases.join('\n')}\n`);

    const error = await loadError(directory);

    expect(error.code).toBe('CONFIG_INVALID');
    expect(problemPaths(error)).toEqual(['(file)']);
  });

  it('accepts an alias of a device setting', async () => {
    const config = edited((draft) => {
      draft.devices.push({ id: 'r2', host: 'alias-target' });
    });
    const text = stringify(config)
      .replace('host: 127.0.0.1', 'host: &site 127.0.0.1')
      .replace('host: alias-target', 'host: *site');
    await directory.write(text);

    const loaded = await loadConfig(directory.file, { env: {}, cwd: directory.dir });

    expect(loaded.devices[1]?.host).toBe('127.0.0.1');
  });

  it('names the variable of a bad override', async () => {
    await directory.write(minimalConfig());

    const error = await loadError(directory, { EDGE_AGENT_CONCURRENCY: 'many' });
    const [problem] = error.details.problems as ConfigProblem[];

    expect(error.code).toBe('CONFIG_INVALID');
    expect(problem?.path).toBe('runs.concurrency');
    expect(problem?.variable).toBe('EDGE_AGENT_CONCURRENCY');
  });

  it('never echoes an inline secret', async () => {
    await directory.write(
      edited((config) => {
        config.devices = [{ id: 'r1', host: '127.0.0.1', password: 'hunter2' }];
      }),
    );

    const error = await loadError(directory);

    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error.details)).not.toContain('hunter2');
  });

  it('reports every problem at once', async () => {
    await directory.write(
      edited((config) => {
        config.siteId = 'site-7';
        config.runs = { concurrency: 0 };
        config.devices = [{ id: 'r 1', host: '127.0.0.1', hots: 'x' }];
      }),
    );

    const error = await loadError(directory);

    expect(problemPaths(error)).toEqual([
      'devices[0].hots',
      'devices[0].id',
      'runs.concurrency',
      'siteId',
    ]);
  });
});

type BadConfigCase = {
  name: string;
  change: (config: TestConfig) => void;
  env?: NodeJS.ProcessEnv;
  paths: string[];
  code?: ErrorCode;
};

const BAD_CONFIGS: BadConfigCase[] = [
  {
    name: 'site id not a UUID',
    change: (config) => {
      config.siteId = 'site-7';
    },
    paths: ['siteId'],
  },
  {
    name: 'missing control plane',
    change: (config) => {
      Reflect.deleteProperty(config, 'controlPlane');
    },
    paths: ['controlPlane'],
  },
  {
    name: 'http control plane URL',
    change: (config) => {
      config.controlPlane.url = 'https://127.0.0.1/agent';
    },
    paths: ['controlPlane.url'],
  },
  {
    name: 'plain ws to a remote host',
    change: (config) => {
      config.controlPlane.url = 'ws://192.0.2.10/agent';
    },
    paths: ['controlPlane.url'],
  },
  {
    name: 'inline control plane token',
    change: (config) => {
      config.controlPlane.token = 'abc';
      config.controlPlane.tokenFile = undefined;
    },
    paths: ['controlPlane.token', 'controlPlane.tokenFile'],
  },
  {
    name: 'token file and credential both',
    change: (config) => {
      config.controlPlane.tokenCredential = 'site-token';
    },
    env: { CREDENTIALS_DIRECTORY: '/run/creds' },
    paths: ['controlPlane.tokenCredential'],
  },
  {
    name: 'credential without credentials directory',
    change: (config) => {
      config.deviceDefaults.passwordFile = undefined;
      config.deviceDefaults.passwordCredential = 'router-password';
    },
    paths: ['deviceDefaults.passwordCredential'],
  },
  {
    name: 'credential name with slash',
    change: (config) => {
      config.deviceDefaults.passwordFile = undefined;
      config.deviceDefaults.passwordCredential = '../etc/shadow';
    },
    env: { CREDENTIALS_DIRECTORY: '/run/creds' },
    paths: ['deviceDefaults.passwordCredential'],
  },
  {
    name: 'signing key not Ed25519',
    change: (config) => {
      config.controlPlane.jobSigningKey.publicKey = 'c2hvcnQ=';
    },
    paths: ['controlPlane.jobSigningKey.publicKey'],
  },
  {
    name: 'bad certificate fingerprint',
    change: (config) => {
      config.controlPlane.fingerprint = 'abcd';
    },
    paths: ['controlPlane.fingerprint'],
  },
  {
    name: 'zero concurrency',
    change: (config) => {
      config.runs = { concurrency: 0 };
    },
    paths: ['runs.concurrency'],
  },
  {
    name: 'fractional timeout',
    change: (config) => {
      config.runs = { runTimeoutMs: 1.5, outputCapBytes: 10 };
    },
    paths: ['runs.outputCapBytes', 'runs.runTimeoutMs'],
  },
  {
    name: 'timeouts past their bounds',
    change: (config) => {
      config.runs = {
        connectTimeoutMs: 300_001,
        commandTimeoutMs: 86_400_001,
        runTimeoutMs: 1e12,
        shutdownDrainMs: 1e12,
      };
    },
    paths: [
      'runs.commandTimeoutMs',
      'runs.connectTimeoutMs',
      'runs.runTimeoutMs',
      'runs.shutdownDrainMs',
    ],
  },
  {
    name: 'open status listen without token',
    change: (config) => {
      config.siteId = 'site-7';
    },
    env: { EDGE_AGENT_STATUS_LISTEN: '0.0.0.0:9181' },
    paths: ['siteId', 'status.tokenFile'],
  },
  {
    name: 'huge concurrency',
    change: (config) => {
      config.runs = { concurrency: 1e30 };
    },
    paths: ['runs.concurrency'],
  },
  {
    name: 'bad status listen address',
    change: (config) => {
      config.status = { listen: '127.0.0.1' };
    },
    paths: ['status.listen'],
  },
  {
    name: 'inline status token',
    change: (config) => {
      config.status = { token: 'abc' };
    },
    paths: ['status.token'],
  },
  {
    name: 'negative retention',
    change: (config) => {
      config.store = { retention: { maxAgeDays: -1, maxSizeMiB: 0 } };
    },
    paths: ['store.retention.maxAgeDays', 'store.retention.maxSizeMiB'],
  },
  {
    name: 'unknown log level',
    change: (config) => {
      config.logLevel = 'verbose';
    },
    paths: ['logLevel'],
  },
  {
    name: 'misspelt top-level key',
    change: (config) => {
      config.device = [];
    },
    paths: ['device'],
  },
  {
    name: 'empty device list',
    change: (config) => {
      config.devices = [];
    },
    paths: ['devices'],
  },
  {
    name: 'duplicate device ids',
    change: (config) => {
      config.devices = [
        { id: 'r1', host: '127.0.0.1' },
        { id: 'r1', host: '127.0.0.2' },
      ];
    },
    paths: ['devices[1].id'],
  },
  {
    name: 'device id with space',
    change: (config) => {
      config.devices = [{ id: 'core 1', host: '127.0.0.1' }];
    },
    paths: ['devices[0].id'],
  },
  {
    name: 'device host with scheme and path',
    change: (config) => {
      config.devices = [{ id: 'r1', host: 'http://x/' }];
    },
    paths: ['devices[0].host'],
  },
  {
    name: 'output cap past 64 MiB',
    change: (config) => {
      config.runs = { outputCapBytes: Number.MAX_SAFE_INTEGER };
    },
    paths: ['runs.outputCapBytes'],
  },
  {
    name: 'device without host',
    change: (config) => {
      config.devices = [{ id: 'r1' }];
    },
    paths: ['devices[0].host'],
  },
  {
    name: 'device without username anywhere',
    change: (config) => {
      config.deviceDefaults.username = undefined;
    },
    paths: ['devices[0].username'],
  },
  {
    name: 'api device without password',
    change: (config) => {
      config.deviceDefaults.passwordFile = undefined;
    },
    paths: ['devices[0].passwordFile'],
  },
  {
    name: 'ssh device without key or password',
    change: (config) => {
      config.deviceDefaults.passwordFile = undefined;
      config.devices = [{ id: 'r1', host: '127.0.0.1', transport: 'ssh' }];
    },
    paths: ['devices[0].keyFile'],
  },
  {
    name: 'passphrase without key',
    change: (config) => {
      config.devices = [{ id: 'r1', host: '127.0.0.1', passphraseFile: 'secrets/passphrase' }];
    },
    paths: ['devices[0].passphraseFile'],
  },
  {
    name: 'inline device password',
    change: (config) => {
      config.devices = [{ id: 'r1', host: '127.0.0.1', password: 'hunter2' }];
    },
    paths: ['devices[0].password'],
  },
  {
    name: 'inline default private key',
    change: (config) => {
      config.deviceDefaults.privateKey = '-----BEGIN OPENSSH PRIVATE KEY-----';
    },
    paths: ['deviceDefaults.privateKey'],
  },
  {
    name: 'unknown transport in defaults',
    change: (config) => {
      config.deviceDefaults.transport = 'telnet';
    },
    paths: ['deviceDefaults.transport'],
  },
  {
    name: 'port out of range',
    change: (config) => {
      config.devices = [{ id: 'r1', host: '127.0.0.1', port: 70000, ports: { ssh: 0 } }];
    },
    paths: ['devices[0].port', 'devices[0].ports.ssh'],
  },
  {
    name: 'unknown code page',
    change: (config) => {
      config.deviceDefaults.codePage = 'klingon';
    },
    paths: ['deviceDefaults.codePage'],
  },
  {
    name: 'bad ssh host key',
    change: (config) => {
      config.devices = [{ id: 'r1', host: '127.0.0.1', ssh: { hostKey: 'MD5:aa' } }];
    },
    paths: ['devices[0].ssh.hostKey'],
  },
  {
    name: 'bad tls mode',
    change: (config) => {
      config.devices = [{ id: 'r1', host: '127.0.0.1', tls: { mode: 'none' } }];
    },
    paths: ['devices[0].tls.mode'],
  },
  {
    name: 'override with bad value',
    change: () => {},
    env: { EDGE_AGENT_SITE_ID: 'x', EDGE_AGENT_ALLOW_INSECURE: 'maybe' },
    paths: ['controlPlane.allowInsecure', 'siteId'],
  },
];

describe('loadConfig with bad configs', () => {
  for (const bad of BAD_CONFIGS) {
    it(`rejects ${bad.name}`, async () => {
      await directory.write(edited(bad.change));

      const error = await loadError(directory, bad.env);

      expect(error.code).toBe(bad.code ?? 'CONFIG_INVALID');
      expect(problemPaths(error)).toEqual(bad.paths);
    });
  }
});
