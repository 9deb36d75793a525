import type { ParsedKey } from 'ssh2';
import { Client, type ConnectConfig } from 'ssh2';

import { systemClock } from '../../src/clock.js';
import { createSilentLogger } from '../../src/logging.js';
import { DeviceFaults, type FaultName } from '../../src/simulator/fleet/faults.js';
import { UserDirectory } from '../../src/simulator/fleet/users.js';
import type { SimulatedDevice } from '../../src/simulator/model/types.js';
import type { SshProfile } from '../../src/simulator/ssh/algorithms.js';
import type { ExitStatusMode } from '../../src/simulator/ssh/exec.js';
import { generateHostKeys, type HostKeySet } from '../../src/simulator/ssh/host-keys.js';
import { SshServer } from '../../src/simulator/ssh/server.js';
import { TEST_PASSWORD, TEST_USER, unusedDevice } from './api-service.js';

let sharedHostKeys: HostKeySet | undefined;

/** Host keys generated once per test file, because RSA generation takes a while. */
export function testHostKeys(): HostKeySet {
  sharedHostKeys ??= generateHostKeys();
  return sharedHostKeys;
}

export type SshServiceOptions = {
  version?: string;
  device?: SimulatedDevice;
  profile?: SshProfile;
  faults?: FaultName[];
  authorizedKeys?: ParsedKey[];
  alwaysAllowPasswordLogin?: boolean;
  exitStatus?: ExitStatusMode;
  hostKeys?: HostKeySet;
  onReboot?: () => void;
};

/** Starts one SSH service on 127.0.0.1 port 0 for a device with one user. */
export async function startSshService(options: SshServiceOptions = {}) {
  const version = options.version ?? '7.18.2';
  const faults = new DeviceFaults(options.faults ?? []);
  const server = new SshServer({
    host: '127.0.0.1',
    port: 0,
    device: options.device ?? unusedDevice(version),
    users: new UserDirectory([
      {
        name: TEST_USER,
        password: TEST_PASSWORD,
        authorizedKeys: options.authorizedKeys ?? [],
        alwaysAllowPasswordLogin: options.alwaysAllowPasswordLogin ?? false,
      },
    ]),
    faults,
    clock: systemClock,
    logger: createSilentLogger(),
    hostKeys: options.hostKeys ?? testHostKeys(),
    profile: options.profile ?? 'routeros7',
    exitStatus: options.exitStatus ?? 'none',
    reboot: () => {
      server.disconnectAll();
      options.onReboot?.();
    },
  });
  const port = await server.listen();
  return { server, port, faults };
}

/** Connects an ssh2 client; resolves with it once ready, rejects with the connection error. */
export function connectSsh(port: number, config: ConnectConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    // Errors after ready (the server closing during cleanup) would otherwise be thrown.
    client.on('error', reject);
    client.connect({ host: '127.0.0.1', port, readyTimeout: 5000, ...config });
  });
}

export type ExecResult = {
  stdout: string;
  stderr: string;
  /** Exit status, or undefined when the server sent none. */
  code: number | undefined;
};

/** Runs one exec command on a connected client and collects its output. */
export function execOn(client: Client, command: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error !== undefined && error !== null) {
        reject(error);
        return;
      }

      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let code: number | undefined;
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      channel.on('exit', (status: number | null) => {
        code = status ?? undefined;
      });
      channel.on('close', () =>
        resolve({
          stdout: Buffer.concat(stdout).toString('latin1'),
          stderr: Buffer.concat(stderr).toString('latin1'),
          code,
        }),
      );
    });
  });
}
