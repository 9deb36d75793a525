/**
 * The tools an operator would otherwise run the same script with: Debian's parallel-ssh (pssh)
 * and `ansible -m raw`. Both drive OpenSSH's `ssh` client, one process per device, with the
 * same key, user and concurrency as the agent.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { DeviceConfig } from '../../src/devices/types.js';
import { runTimed, type TimedRun } from './timed-command.js';

/** One tool's run on every device: its process measurements and each device's output. */
export type ToolRun = {
  process: TimedRun;
  /** Output by device id; a device the tool reported nothing for is absent. */
  outputs: Map<string, string>;
  /** Devices the tool itself reported as failed, with its words for it. */
  failures: Array<{ deviceId: string; reason: string }>;
};

export type PeerOptions = {
  directory: string;
  inventory: readonly DeviceConfig[];
  concurrency: number;
  script: string;
  /** Private key whose public key every simulated device authorizes. */
  keyFile: string;
};

/**
 * Options for OpenSSH: the benchmark's throw-away host keys are neither checked nor recorded,
 * and no prompt may wait for input.
 */
function sshOptions(keyFile: string): string[] {
  return [
    '-i',
    keyFile,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
  ];
}

/** Generates an Ed25519 key pair without a passphrase; returns the private key file. */
export function generateKey(directory: string): string {
  const keyFile = path.join(directory, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', keyFile]);
  return keyFile;
}

/** Runs the script with `parallel-ssh --inline-stdout`, one `ssh` per device. */
export async function runParallelSsh(options: PeerOptions): Promise<ToolRun> {
  const hostsFile = path.join(options.directory, 'pssh-hosts');
  const byAddress = new Map<string, string>();
  const lines = options.inventory.map((device) => {
    const entry = `${device.username}@${device.host}:${device.ports.ssh}`;
    byAddress.set(entry, device.id);
    return entry;
  });
  writeFileSync(hostsFile, `${lines.join('\n')}\n`);

  const process = await runTimed('/usr/bin/parallel-ssh', [
    '-h',
    hostsFile,
    '-p',
    String(options.concurrency),
    '-t',
    '0',
    '--inline-stdout',
    '-x',
    sshOptions(options.keyFile).join(' '),
    options.script,
  ]);
  return { process, ...parseParallelSsh(process.stdout, byAddress) };
}

/**
 * Reads pssh's inline output: a header `[n] HH:MM:SS [SUCCESS] user@host:port` (or `[FAILURE] ...
 * reason`) for each device, followed by that device's standard output.
 */
function parseParallelSsh(
  stdout: string,
  byAddress: ReadonlyMap<string, string>,
): Pick<ToolRun, 'outputs' | 'failures'> {
  const outputs = new Map<string, string>();
  const failures: ToolRun['failures'] = [];
  const header = /^\[\d+\] \S+ \[(SUCCESS|FAILURE)\] (\S+)(?: (.*))?$/;
  let current: string | undefined;

  for (const line of stdout.split('\n')) {
    const match = header.exec(line);
    if (match !== null) {
      current = byAddress.get(match[2] ?? '') ?? match[2] ?? '';
      outputs.set(current, '');
      if (match[1] === 'FAILURE') {
        failures.push({ deviceId: current, reason: match[3] ?? 'failed' });
      }
    } else if (current !== undefined) {
      outputs.set(current, `${outputs.get(current) ?? ''}${line}\n`);
    }
  }

  return { outputs, failures };
}

/**
 * Runs the script with `ansible all -m raw` over a generated inventory. Persistent SSH master
 * connections (ansible's default ControlPersist) are turned off: they outlive the command, so
 * `/usr/bin/time` would not count their CPU time, and one command per device gains nothing
 * from them.
 */
export async function runAnsible(options: PeerOptions): Promise<ToolRun> {
  const inventoryFile = path.join(options.directory, 'ansible-inventory.ini');
  const home = path.join(options.directory, 'ansible-home');
  mkdirSync(home, { recursive: true });
  const hosts = options.inventory.map(
    (device) =>
      `${device.id} ansible_host=${device.host} ansible_port=${device.ports.ssh} ansible_user=${device.username}`,
  );
  const variables = [
    'ansible_connection=ssh',
    `ansible_ssh_private_key_file=${options.keyFile}`,
    `ansible_ssh_common_args='${sshOptions(options.keyFile).slice(2).join(' ')}'`,
  ];
  writeFileSync(inventoryFile, ['[all]', ...hosts, '[all:vars]', ...variables, ''].join('\n'));

  const process = await runTimed(
    '/usr/bin/ansible',
    [
      'all',
      '-i',
      inventoryFile,
      '-m',
      'raw',
      '-a',
      options.script,
      '-f',
      String(options.concurrency),
      '-o',
    ],
    {
      env: {
        ...globalThis.process.env,
        ANSIBLE_HOME: home,
        ANSIBLE_LOCAL_TEMP: path.join(home, 'tmp'),
        ANSIBLE_HOST_KEY_CHECKING: 'False',
        ANSIBLE_SSH_ARGS: '-C -o ControlMaster=no',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
      },
    },
  );
  return { process, ...parseAnsible(process.stdout) };
}

/**
 * Reads ansible's one-line output: `id | CHANGED | rc=0 | (stdout) text` on success, with the
 * output's line ends escaped, and `id | FAILED ...` or `id | UNREACHABLE!: reason` otherwise.
 */
function parseAnsible(stdout: string): Pick<ToolRun, 'outputs' | 'failures'> {
  const outputs = new Map<string, string>();
  const failures: ToolRun['failures'] = [];

  for (const line of stdout.split('\n')) {
    const match = /^(\S+) \| ([A-Z]+)!?(.*)$/.exec(line);
    if (match === null) {
      continue;
    }

    const [, deviceId = '', status = '', rest = ''] = match;
    const output = /\(stdout\) (.*)$/.exec(rest)?.[1] ?? '';
    outputs.set(deviceId, output.replace(/\\r\\n|\\n/g, '\n'));
    if (status !== 'CHANGED' && status !== 'SUCCESS') {
      failures.push({ deviceId, reason: `${status}${rest}`.slice(0, 200) });
    }
  }

  return { outputs, failures };
}
