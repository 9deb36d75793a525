import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import { runEdgeAgent } from '../support/cli.js';
import {
  type ConfigDirectory,
  makeConfigDirectory,
  minimalConfig,
} from '../support/config-files.js';
import { closedPort } from '../support/ports.js';

/** `edge-agent devices` as a child process against simulated devices. */

let fleet: Fleet;
let config: ConfigDirectory;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'edge-devices-'));
  fleet = await startFleet({
    fleet: [
      { id: 'core', version: '7.18.2', identity: 'core-router' },
      { id: 'branch', version: '6.42', identity: 'branch-router' },
      { id: 'locked', version: '7.17', faults: ['auth-fail'] },
      { id: 'hung', version: '7.18.2', faults: ['hang'] },
      { id: 'fatal', version: '7.18.2', faults: ['fatal'] },
      { id: 'midway', version: '7.18.2', faults: ['close-mid-reply'] },
    ],
  });
  config = await makeConfigDirectory();
});

afterAll(async () => {
  await fleet?.close();
  await config?.remove();
  await rm(stateDir, { recursive: true, force: true });
});

/** Inventory entries for fleet devices, reached over `transport`, with their password files. */
function entry(id: string, transport: 'api' | 'api-ssl' | 'ssh') {
  const device = fleet.device(id).toDeviceConfig();
  return {
    id,
    host: '127.0.0.1',
    transport,
    ports: device.ports,
    passwordFile: device.passwordFile,
    tls: { mode: device.tls.mode, fingerprint: device.tls.fingerprint },
    ssh: { hostKey: device.ssh.hostKey },
  };
}

async function probe(devices: unknown[], extra: string[] = [], runs?: Record<string, number>) {
  const content = minimalConfig();
  content.deviceDefaults = { username: 'admin' };
  if (runs !== undefined) {
    content.runs = runs;
  }

  content.devices = devices;
  await config.write(content);
  return runEdgeAgent([
    'devices',
    '--config',
    config.file,
    '--known-hosts',
    path.join(stateDir, 'known-hosts.json'),
    ...extra,
  ]);
}

describe('edge-agent devices', () => {
  it('exits 0 when every device logs in', async () => {
    const result = await probe([entry('core', 'api'), entry('branch', 'ssh')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ID\s+HOST\s+TRANSPORT\s+REACHABLE\s+LOGIN\s+VERSION/);
    expect(result.stdout).toContain('core-router');
    expect(result.stdout).toContain('branch-router');
  });

  it('reports each device in JSON', async () => {
    const refused = await closedPort();
    const result = await probe(
      [
        entry('core', 'api-ssl'),
        entry('branch', 'api'),
        entry('locked', 'api'),
        {
          id: 'gone',
          host: '127.0.0.1',
          ports: { api: refused },
          passwordFile: 'secrets/password',
        },
      ],
      ['--json', '--concurrency', '2'],
    );
    const probes = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    const byId = new Map(probes.map((item) => [item.id, item]));
    expect(result.code).toBe(1);
    expect(probes.map((item) => item.id)).toEqual(['core', 'branch', 'locked', 'gone']);
    expect(byId.get('core')).toMatchObject({
      reachable: true,
      loggedIn: true,
      facts: { version: '7.18.2 (stable)', identity: 'core-router' },
    });
    expect(byId.get('branch')).toMatchObject({
      loggedIn: true,
      facts: { identity: 'branch-router' },
    });
    expect(byId.get('locked')).toMatchObject({
      reachable: true,
      loggedIn: false,
      error: { code: 'AUTH_FAILED' },
    });
    expect(byId.get('gone')).toMatchObject({
      reachable: false,
      loggedIn: false,
      error: { code: 'DEVICE_UNREACHABLE' },
    });
    expect(typeof byId.get('core')?.roundTripMs).toBe('number');
  });

  it('reports the login before a failing step', async () => {
    const devices = ['api', 'ssh'].flatMap((transport) =>
      ['hung', 'fatal', 'midway'].map((id) => ({
        ...entry(id, transport as 'api' | 'ssh'),
        id: `${id}-${transport}`,
      })),
    );
    const result = await probe(devices, ['--json'], { commandTimeoutMs: 1000 });
    const probes = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    const byId = new Map(probes.map((item) => [item.id, item]));

    expect(result.code).toBe(1);
    for (const transport of ['api', 'ssh']) {
      expect(byId.get(`hung-${transport}`)).toMatchObject({
        reachable: true,
        loggedIn: true,
        error: { code: 'TIMEOUT' },
      });
      expect(byId.get(`fatal-${transport}`)).toMatchObject({ reachable: true, loggedIn: true });
      expect(byId.get(`midway-${transport}`)).toMatchObject({ reachable: true, loggedIn: true });
    }
  });

  it('exits 2 without a configuration', async () => {
    const result = await runEdgeAgent(['devices', '--config', path.join(stateDir, 'absent.yaml')]);
    expect(result.code).toBe(2);
  });

  it('exits 2 on a bad concurrency', async () => {
    const result = await probe([entry('core', 'api')], ['--concurrency', '0']);
    expect(result.code).toBe(2);
  });
});
