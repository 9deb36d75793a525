import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import type { DeviceConfig } from '../../../src/devices/types.js';
import { helpText, parseCommandLine } from '../../../src/simulator/fleet/command-line.js';
import { FAULT_NAMES } from '../../../src/simulator/fleet/faults.js';
import { parseFleetFile } from '../../../src/simulator/fleet/fleet-file.js';
import { runSimulator } from '../../../src/simulator/fleet/run-simulator.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function codeOf(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString();
}

/** Resolves once `read()` contains `text`. */
async function waitFor(read: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!read().includes(text)) {
    if (Date.now() > deadline) {
      throw new Error(`"${text}" did not appear; got: ${read()}`);
    }

    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('parseCommandLine', () => {
  it('reads devices, ports and repeated faults', async () => {
    const command = await parseCommandLine([
      '--devices',
      '3',
      '--api-port',
      '18728',
      '--fault',
      'hang',
      '--fault',
      'fatal',
      '--latency-ms',
      '50',
    ]);

    expect(command.kind).toBe('run');
    if (command.kind === 'run') {
      expect(command.fleet.devices).toBe(3);
      expect(command.fleet.basePorts?.api).toBe(18728);
      expect(command.fleet.defaults?.faults).toEqual(['hang', 'fatal']);
      expect(command.fleet.defaults?.latencyMs).toBe(50);
    }
  });

  it.each([
    [['--devices', 'many']],
    [['--fault', 'explode']],
    [['--tls-mode', 'weak']],
    [['--unknown-flag']],
    [['--api-port', '70000']],
  ])('rejects %j', async (argv) => {
    expect(await codeOf(() => parseCommandLine(argv))).toBe('USAGE_INVALID');
  });

  it('makes file paths absolute', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'routeros-sim-paths-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'secret\n');

    const command = await parseCommandLine([
      '--state-dir',
      relative(process.cwd(), join(dir, 'state')),
      '--password-file',
      relative(process.cwd(), passwordFile),
    ]);

    expect(command.kind).toBe('run');
    if (command.kind === 'run') {
      expect(command.fleet.stateDir).toBe(join(dir, 'state'));
      expect(command.fleet.defaults?.passwordFile).toBe(passwordFile);
    }
  });

  it('lets flags override fleet file defaults', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sim-cli-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const file = join(directory, 'fleet.yaml');
    await writeFile(file, "defaults: { version: '6.49.10', latencyMs: 5 }\ndevices: [{ id: a }]\n");

    const command = await parseCommandLine(['--fleet', file, '--version', '7.17']);

    expect(command.kind).toBe('run');
    expect(command.kind === 'run' ? command.fleet.defaults : undefined).toEqual({
      version: '7.17',
      latencyMs: 5,
    });
  });

  it('documents every fault in help', () => {
    const help = helpText();

    for (const name of FAULT_NAMES) {
      expect(help, name).toContain(`  ${name} `);
    }
  });
});

describe('parseFleetFile', () => {
  it('reads defaults and devices', () => {
    const file = parseFleetFile(
      [
        'defaults:',
        "  version: '7.18.2'",
        '  tlsMode: anonymous',
        'devices:',
        '  - id: core-1',
        '    faults: [hang]',
        '  - id: branch-1',
        "    version: '6.49.10'",
        '    strongCrypto: true',
      ].join('\n'),
      'fleet.yaml',
    );

    expect(file.defaults).toEqual({ version: '7.18.2', tlsMode: 'anonymous' });
    expect(file.devices).toEqual([
      { id: 'core-1', faults: ['hang'] },
      { id: 'branch-1', version: '6.49.10', strongCrypto: true },
    ]);
  });

  it('reads a bare JSON list', () => {
    const file = parseFleetFile('[{"id": "r1", "latencyMs": 10}]', 'fleet.json');

    expect(file.devices).toEqual([{ id: 'r1', latencyMs: 10 }]);
  });

  it.each([
    ['an unquoted version', 'devices: [{ version: 7.10 }]'],
    ['an unknown fault', 'devices: [{ faults: [explode] }]'],
    ['an unknown field', 'devices: [{ colour: blue }]'],
    ['broken YAML', 'devices: [{ id: '],
  ])('rejects %s', (_case, text) => {
    expect(() => parseFleetFile(text, 'fleet.yaml')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('runSimulator', () => {
  it('serves until shutdown, then exits 0', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const readStdout = collect(stdout);
    const readStderr = collect(stderr);
    const shutdown = new AbortController();

    const exit = runSimulator(
      ['--devices', '2', '--log-level', 'silent'],
      { stdout, stderr },
      shutdown.signal,
    );
    await waitFor(readStderr, '2 devices ready');
    const inventory = JSON.parse(readStdout()) as { devices: DeviceConfig[] };
    const port = inventory.devices[1]?.ports.api ?? 0;
    const whileRunning = await probe(port);
    shutdown.abort();

    expect(await exit).toBe(0);
    expect(inventory.devices.map((device) => device.id)).toEqual(['router-0001', 'router-0002']);
    expect(whileRunning).toBe('connected');
    expect(await probe(port)).toBe('ECONNREFUSED');
  });

  it('exits 2 on bad usage', async () => {
    const stderr = new PassThrough();
    const read = collect(stderr);

    const code = await runSimulator(
      ['--devices', '0'],
      { stdout: new PassThrough(), stderr },
      new AbortController().signal,
    );

    expect(code).toBe(2);
    expect(read()).toContain('--devices');
  });
});

describe('routeros-sim file options', () => {
  it.each(['--fleet', '--password-file', '--key-file', '--authorized-keys'])(
    '%s with a missing file is usage',
    async (option) => {
      const missing = join(tmpdir(), `routeros-sim-missing-${process.pid}`);

      const code = await codeOf(() => parseCommandLine([option, missing]));
      const exit = await runSimulator(
        [option, missing, '--log-level', 'silent'],
        { stdout: new PassThrough(), stderr: new PassThrough() },
        new AbortController().signal,
      );

      expect(code).toBe('USAGE_INVALID');
      expect(exit).toBe(2);
    },
  );
});

function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}
