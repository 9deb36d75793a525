import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetDevice } from '../../src/simulator/fleet/fleet-device.js';
import { runEdgeAgent, startEdgeAgent } from '../support/cli.js';
import { makeConfigDirectory, minimalConfig } from '../support/config-files.js';
import { closedPort } from '../support/ports.js';

/** `edge-agent exec` as a child process against simulated devices. */

const run = promisify(execFile);

let fleet: Fleet;
let dir: string;
let router7: FleetDevice;
let router6: FleetDevice;
let hungRouter: FleetDevice;
let passwordFile: string;
let keyFile: string;
let scriptFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'edge-exec-'));
  keyFile = path.join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  fleet = await startFleet({
    fleet: [
      { id: 'r7', version: '7.18.2', keyFile },
      { id: 'r6', version: '6.49.10', tlsMode: 'anonymous' },
      { id: 'hung', version: '7.18.2', keyFile, faults: ['hang'] },
    ],
  });
  router7 = fleet.device('r7');
  router6 = fleet.device('r6');
  hungRouter = fleet.device('hung');
  passwordFile = router7.toDeviceConfig().passwordFile ?? '';
  scriptFile = await writeScript('hello.rsc', ':put "hello ö"\n:put [/system identity get name]\n');
});

afterAll(async () => {
  await fleet?.close();
  await rm(dir, { recursive: true, force: true });
});

async function writeScript(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function knownHosts(name: string): string {
  return path.join(dir, `${name}.json`);
}

function hostArgs(device: FleetDevice, transport: 'api' | 'api-ssl' | 'ssh', extra: string[] = []) {
  const port = { api: device.ports.api, 'api-ssl': device.ports.apiSsl, ssh: device.ports.ssh }[
    transport
  ];
  return [
    'exec',
    '--host',
    '127.0.0.1',
    '--transport',
    transport,
    '--port',
    String(port),
    '--user',
    'admin',
    '--known-hosts',
    knownHosts(`${device.id}-${transport}`),
    ...extra,
  ];
}

/** Runs `exec --json` on router7 over the API and parses what it printed. */
async function execJson(script: string, extra: string[] = []) {
  const result = await runEdgeAgent([
    ...hostArgs(router7, 'api', ['--password-file', passwordFile, '--json', ...extra]),
    '--file',
    script,
  ]);
  return { code: result.code, report: JSON.parse(result.stdout) };
}

describe('edge-agent exec --host', () => {
  it('prints the output and exits 0', async () => {
    const result = await runEdgeAgent([
      ...hostArgs(router7, 'api', ['--password-file', passwordFile]),
      '--file',
      scriptFile,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('hello ö\r\nr7\r\n');
  });

  it('prints one JSON object with --json', async () => {
    const { code, report } = await execJson(scriptFile);
    expect(code).toBe(0);
    expect(report.status).toBe('succeeded');
    expect(report.result.output).toBe('hello ö\r\nr7\r\n');
    expect(report.facts.version).toBe('7.18.2 (stable)');
    expect(report.device.transport).toBe('api');
  });

  it('exits 1 on a script error', async () => {
    const broken = await writeScript('broken.rsc', ':put "a"\n/nonsense\n');
    const { code, report } = await execJson(broken);
    expect(code).toBe(1);
    expect(report.result.error.code).toBe('SCRIPT_SYNTAX_ERROR');
    expect(report.result.error.line).toBe(2);
  });

  it('exits 1 on an unreachable device', async () => {
    const port = await closedPort();
    const { code, report } = await execJson(scriptFile, ['--port', String(port)]);
    expect(code).toBe(1);
    expect(report.error.code).toBe('DEVICE_UNREACHABLE');
  });

  it('exits 1 on an encoding error', async () => {
    const cyrillic = await writeScript('cyrillic.rsc', ':put "жук"\n');
    const { code, report } = await execJson(cyrillic);
    expect(code).toBe(1);
    expect(report.result.error.code).toBe('ENCODING_ERROR');
  });

  it('runs over SSH with a key and pins it', async () => {
    // ASCII only: the simulator's SSH server reads exec commands as UTF-8.
    const ascii = await writeScript('ascii.rsc', ':put [/system identity get name]\n');
    const result = await runEdgeAgent([
      ...hostArgs(router7, 'ssh', ['--key-file', keyFile]),
      '--file',
      ascii,
    ]);
    const pins = JSON.parse(await readFile(knownHosts('r7-ssh'), 'utf8'));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('r7\r\n');
    expect(Object.values(pins.pins)).toEqual([{ 'ssh-host-key': router7.hostKeyFingerprint }]);
  });

  it('runs over anonymous API-SSL on RouterOS 6', async () => {
    const password = router6.toDeviceConfig().passwordFile ?? '';
    const result = await runEdgeAgent([
      ...hostArgs(router6, 'api-ssl', ['--password-file', password, '--tls-mode', 'anonymous']),
      '--file',
      scriptFile,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('hello ö\r\nr6\r\n');
  });

  it('exits 1 when a pinned certificate changed', async () => {
    const file = knownHosts('changed-certificate');
    const args = [
      ...hostArgs(router7, 'api-ssl', ['--password-file', passwordFile, '--json']),
      '--known-hosts',
      file,
      '--file',
      scriptFile,
    ];
    expect((await runEdgeAgent(args)).code).toBe(0);

    const pins = JSON.parse(await readFile(file, 'utf8'));
    for (const entry of Object.values(pins.pins) as Array<Record<string, string>>) {
      entry['tls-certificate'] = '00'.repeat(32);
    }
    await writeFile(file, JSON.stringify(pins));

    const result = await runEdgeAgent(args);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe('TLS_FAILED');
  });
});

describe('edge-agent exec --timeout-ms', () => {
  /** Upper bound on a one-second run, with room for the child's start on a loaded machine. */
  const BOUNDED_MS = 8000;

  it('bounds a hung SSH run with --host', async () => {
    const startedAt = Date.now();
    const result = await runEdgeAgent([
      ...hostArgs(hungRouter, 'ssh', ['--key-file', keyFile, '--timeout-ms', '1000', '--json']),
      '--file',
      scriptFile,
    ]);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.code).toBe('TIMEOUT');
    expect(Date.now() - startedAt).toBeLessThan(BOUNDED_MS);
  });

  it('bounds a hung SSH run with --config', async () => {
    const directory = await makeConfigDirectory();
    const config = minimalConfig();
    config.deviceDefaults = { username: 'admin', keyFile };
    config.devices = [
      { id: 'hung', host: '127.0.0.1', transport: 'ssh', ports: { ssh: hungRouter.ports.ssh } },
    ];
    await directory.write(config);
    try {
      const startedAt = Date.now();
      const result = await runEdgeAgent([
        'exec',
        '--config',
        directory.file,
        '--device',
        'hung',
        '--known-hosts',
        knownHosts('hung-config'),
        '--timeout-ms',
        '1000',
        '--json',
        '--file',
        scriptFile,
      ]);

      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).error.code).toBe('TIMEOUT');
      expect(Date.now() - startedAt).toBeLessThan(BOUNDED_MS);
    } finally {
      await directory.remove();
    }
  });
});

/**
 * Forwards one port to `targetPort` and resolves `connected` on the first connection, which marks
 * the moment the child reached the device.
 */
async function watchedForward(targetPort: number) {
  let onConnection = (): void => undefined;
  const connected = new Promise<void>((resolve) => {
    onConnection = resolve;
  });
  const server: Server = createServer((socket) => {
    onConnection();
    const upstream = connect(targetPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, connected, server };
}

describe('edge-agent exec on a signal', () => {
  /** Upper bound between the signal and the exit; the command timeout is 30 s. */
  const PROMPT_EXIT_MS = 5000;

  const CASES = [
    ['api', 'SIGINT'],
    ['ssh', 'SIGTERM'],
  ] as const;

  it.each(CASES)('stops a hung %s run on %s', async (transport, signal) => {
    const target = transport === 'api' ? hungRouter.ports.api : hungRouter.ports.ssh;
    const forward = await watchedForward(target);
    const credentials =
      transport === 'api'
        ? ['--password-file', hungRouter.toDeviceConfig().passwordFile ?? '']
        : ['--key-file', keyFile];
    try {
      const args = hostArgs(hungRouter, transport, [...credentials, '--json']);
      args[args.indexOf('--port') + 1] = String(forward.port);
      const { child, ended } = startEdgeAgent([...args, '--file', scriptFile]);
      await forward.connected;
      // Login takes a few milliseconds on loopback; the device facts read then hangs.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const signalledAt = Date.now();
      child.kill(signal);
      const result = await ended;

      expect(Date.now() - signalledAt).toBeLessThan(PROMPT_EXIT_MS);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).error.code).toBe('CANCELLED');
    } finally {
      forward.server.close();
    }
  });
});

describe('edge-agent exec usage', () => {
  const usageCases: ReadonlyArray<[string, string[]]> = [
    ['a missing --file', ['exec', '--host', '127.0.0.1', '--transport', 'api', '--user', 'a']],
    ['an unknown option', ['exec', '--colour']],
    ['an unknown transport', ['exec', '--transport', 'telnet', '--file', '/dev/null']],
    [
      'a key over the API',
      [
        'exec',
        '--host',
        'h',
        '--transport',
        'api',
        '--user',
        'u',
        '--key-file',
        'k',
        '--file',
        '/dev/null',
      ],
    ],
    [
      'a bad port',
      [
        'exec',
        '--host',
        'h',
        '--transport',
        'api',
        '--port',
        '70000',
        '--user',
        'u',
        '--password-file',
        'p',
        '--file',
        '/dev/null',
      ],
    ],
  ];

  for (const [name, args] of usageCases) {
    it(`exits 2 on ${name}`, async () => {
      expect((await runEdgeAgent(args)).code).toBe(2);
    });
  }

  it('exits 2 on a timeout past 24 hours', async () => {
    const result = await runEdgeAgent([
      ...hostArgs(router7, 'api', ['--password-file', passwordFile, '--timeout-ms', '99999999999']),
      '--file',
      scriptFile,
    ]);
    expect(result.code).toBe(2);
  });

  it('exits 2 on an unreadable password file', async () => {
    const result = await runEdgeAgent([
      ...hostArgs(router7, 'api', ['--password-file', path.join(dir, 'missing')]),
      '--file',
      scriptFile,
    ]);
    expect(result.code).toBe(2);
  });
});

describe('edge-agent exec --config', () => {
  async function configWith(devices: unknown[]) {
    const directory = await makeConfigDirectory();
    const config = minimalConfig();
    config.deviceDefaults = { username: 'admin', passwordFile: passwordFile };
    config.devices = devices;
    await directory.write(config);
    return directory;
  }

  it('runs on a configured device', async () => {
    const config = await configWith([
      { id: 'edge-r7', host: '127.0.0.1', transport: 'api', ports: { api: router7.ports.api } },
    ]);
    try {
      const result = await runEdgeAgent([
        'exec',
        '--config',
        config.file,
        '--device',
        'edge-r7',
        '--known-hosts',
        knownHosts('config'),
        '--file',
        scriptFile,
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('hello ö\r\nr7\r\n');
    } finally {
      await config.remove();
    }
  });

  it('exits 2 on an unknown device id', async () => {
    const config = await configWith([{ id: 'edge-r7', host: '127.0.0.1' }]);
    try {
      const result = await runEdgeAgent([
        'exec',
        '--config',
        config.file,
        '--device',
        'nope',
        '--file',
        scriptFile,
      ]);
      expect(result.code).toBe(2);
    } finally {
      await config.remove();
    }
  });

  it('exits 2 on a missing configuration', async () => {
    const result = await runEdgeAgent([
      'exec',
      '--config',
      path.join(dir, 'absent.yaml'),
      '--device',
      'r1',
      '--file',
      scriptFile,
    ]);
    expect(result.code).toBe(2);
  });
});
