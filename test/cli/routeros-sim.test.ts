import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { DeviceConfig } from '../../src/devices/types.js';
import { RawApiClient } from '../support/api-client.js';
import { ChildProcesses, START_TIMEOUT_MS, waitForLog } from '../support/daemon.js';

let dir: string;
let children: ChildProcesses;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'routeros-sim-cli-'));
  children = new ChildProcesses();
});

afterEach(async () => {
  await children.stopAll();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `routeros-sim` with `args` and resolves with its inventory once it is ready. */
async function startSimulator(args: readonly string[]): Promise<DeviceConfig[]> {
  const inventoryFile = path.join(dir, 'inventory.json');
  children.start('sim', 'routeros-sim', [...args, '--inventory', inventoryFile]);
  await children.waitForLine('sim', (text) => text.includes('devices ready'), START_TIMEOUT_MS);
  const inventory = JSON.parse(await readFile(inventoryFile, 'utf8')) as {
    devices: DeviceConfig[];
  };
  return inventory.devices;
}

/** Arguments that reboot each device on its first command and keep it down for 500 ms. */
function rebootArgs(): string[] {
  return ['--fault', 'reboot', '--reboot-delay-ms', '500', '--state-dir', dir];
}

/** Connects to `device` over the API and returns the client with the login replies. */
async function login(device: DeviceConfig) {
  const password = (await readFile(device.passwordFile ?? '', 'latin1')).replace(/\n$/, '');
  const client = await RawApiClient.connect(device.ports.api);
  const replies = await client.call([
    '/login',
    `=name=${device.username}`,
    `=password=${password}`,
  ]);
  return { client, replies };
}

/** Logs in to `device` and sends one command, which fires the reboot fault. */
async function sendFirstCommand(device: DeviceConfig): Promise<RawApiClient> {
  const { client } = await login(device);
  client.send(['/system/identity/print']);
  return client;
}

describe('routeros-sim reboot fault', () => {
  it('keeps running while every device reboots', async () => {
    const devices = await startSimulator(['--devices', '2', ...rebootArgs()]);
    const clients = await Promise.all(devices.map((device) => sendFirstCommand(device)));
    await Promise.all(clients.map((client) => client.closed));

    await waitForLog(children, 'sim', 'device back after reboot');

    expect(children.exitCode('sim')).toBeNull();
  });

  it('listens again after the delay', async () => {
    const [device] = await startSimulator(rebootArgs());
    if (device === undefined) {
      throw new Error('routeros-sim listed no device');
    }

    await (await sendFirstCommand(device)).closed;
    await waitForLog(children, 'sim', 'device back after reboot');
    const { client, replies } = await login(device);
    client.close();

    expect(replies[0]?.[0]).toBe('!done');
  });
});

describe('routeros-sim state directory', () => {
  it('creates a missing directory', async () => {
    const stateDir = path.join(dir, 'missing', 'state');

    await startSimulator(['--state-dir', stateDir]);

    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
  });

  it('exits 2 when it cannot create it', async () => {
    const file = path.join(dir, 'not-a-directory');
    await writeFile(file, 'text');
    children.start('sim', 'routeros-sim', ['--state-dir', path.join(file, 'state')]);

    expect(await children.exited('sim')).toBe(2);
  });
});
