import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { sshHostKeyFingerprint } from '../../src/devices/fingerprints.js';

const run = promisify(execFile);

/** Path of OpenSSH's server, as Debian's openssh-server installs it. */
export const SSHD_PATH = '/usr/sbin/sshd';

/**
 * Runs an exec command's bytes and returns what the channel prints. `signal` aborts when the
 * SSH channel closes before the reply is written.
 */
export type CommandHandler = (command: Buffer, signal: AbortSignal) => Promise<Buffer> | Buffer;

export type OpenSshServerOptions = {
  handleCommand: CommandHandler;
  /** Passphrase of the generated client key; default none. */
  clientKeyPassphrase?: string;
  /** Type of the generated client key, as `ssh-keygen -t` names it; default `ed25519`. */
  clientKeyType?: 'ed25519' | 'rsa' | 'ecdsa';
};

/** A real OpenSSH `sshd` on 127.0.0.1 that logs in the current user with a generated key. */
export type OpenSshServer = {
  port: number;
  /** The user sshd runs as and accepts: the user running the tests. */
  user: string;
  clientKeyPath: string;
  /** OpenSSH SHA-256 fingerprint of the host key. */
  hostKeyFingerprint: string;
  /** Exec commands received so far, as bytes. */
  commands: Buffer[];
  stop(): Promise<void>;
};

/**
 * The ForceCommand program. It reads SSH_ORIGINAL_COMMAND as bytes from /proc/self/environ
 * (process.env would decode it as UTF-8 and lose bytes of other code pages), sends them to the
 * test process over a Unix socket and prints the reply. sshd closes its stdin when the client
 * closes the channel; the program then exits, which closes the socket and aborts the command.
 */
const FORCE_COMMAND_SOURCE = `
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const prefix = Buffer.from('SSH_ORIGINAL_COMMAND=');
let command = Buffer.alloc(0);
for (let start = 0, environ = readFileSync('/proc/self/environ'); start < environ.length; ) {
  let end = environ.indexOf(0, start);
  if (end === -1) end = environ.length;
  const entry = environ.subarray(start, end);
  if (entry.subarray(0, prefix.length).equals(prefix)) command = entry.subarray(prefix.length);
  start = end + 1;
}

// A length prefix ends the command, so the socket stays open both ways: the test process sees it
// close when this program exits early.
const socket = connect(process.argv[2]);
const length = Buffer.alloc(4);
length.writeUInt32BE(command.length);
socket.on('connect', () => socket.write(Buffer.concat([length, command])));
socket.pipe(process.stdout);
socket.on('error', (error) => {
  process.stderr.write('force command failed: ' + error.message + '\\r\\n');
  process.exitCode = 1;
});
socket.on('close', () => process.stdin.destroy());
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Starts `sshd -D -e` with a fresh host key, a fresh client key in its authorized keys, and a
 * ForceCommand that hands every exec command to `handleCommand` in this process.
 */
export async function startOpenSshServer(options: OpenSshServerOptions): Promise<OpenSshServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-sshd-'));
  const commands: Buffer[] = [];
  const relay = await startCommandRelay(path.join(dir, 'exec.sock'), async (command, signal) => {
    commands.push(command);
    return options.handleCommand(command, signal);
  });

  try {
    const keys = await generateKeys(
      dir,
      options.clientKeyPassphrase ?? '',
      options.clientKeyType ?? 'ed25519',
    );
    const port = await freePort();
    const configPath = await writeSshdConfig(dir, port);
    await ensurePrivilegeSeparationDirectory();
    const sshd = await startSshd(configPath);

    return {
      port,
      user: os.userInfo().username,
      clientKeyPath: keys.clientKeyPath,
      hostKeyFingerprint: keys.hostKeyFingerprint,
      commands,
      async stop() {
        await stopProcess(sshd);
        await closeServer(relay);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await closeServer(relay);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function generateKeys(dir: string, passphrase: string, clientKeyType: string) {
  const hostKeyPath = path.join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = path.join(dir, `client_${clientKeyType}`);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', hostKeyPath]);
  await run('ssh-keygen', [
    '-q',
    '-t',
    clientKeyType,
    '-N',
    passphrase,
    '-C',
    'client',
    '-f',
    clientKeyPath,
  ]);

  const clientPublicKey = await readFile(`${clientKeyPath}.pub`, 'utf8');
  await writeFile(path.join(dir, 'authorized_keys'), clientPublicKey, { mode: 0o600 });

  const hostPublicKey = (await readFile(`${hostKeyPath}.pub`, 'utf8')).split(' ')[1] ?? '';
  const hostKeyFingerprint = sshHostKeyFingerprint(Buffer.from(hostPublicKey, 'base64'));
  return { clientKeyPath, hostKeyFingerprint };
}

async function writeSshdConfig(dir: string, port: number): Promise<string> {
  const forceCommandPath = path.join(dir, 'force-command.mjs');
  await writeFile(forceCommandPath, FORCE_COMMAND_SOURCE);

  const forceCommand = `${process.execPath} ${forceCommandPath} ${path.join(dir, 'exec.sock')}`;
  const lines = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${path.join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    `AllowUsers ${os.userInfo().username}`,
    'UsePAM no',
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'PermitUserEnvironment no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'LogLevel INFO',
    `ForceCommand ${forceCommand}`,
  ];
  const configPath = path.join(dir, 'sshd_config');
  await writeFile(configPath, `${lines.join('\n')}\n`);
  return configPath;
}

/** sshd refuses to start as root without its privilege separation directory. */
async function ensurePrivilegeSeparationDirectory(): Promise<void> {
  if (process.getuid?.() === 0) {
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  }
}

/** Resolves once sshd prints that it listens; rejects with its output if it exits first. */
function startSshd(configPath: string): Promise<ChildProcess> {
  const sshd = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });

  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Server listening')) {
        sshd.stderr?.removeListener('data', onData);
        sshd.stderr?.resume();
        resolve(sshd);
      }
    };
    sshd.stderr?.on('data', onData);
    sshd.once('error', reject);
    sshd.once('exit', (code) => reject(new Error(`sshd exited with ${code}: ${output}`)));
  });
}

/** Binds port 0 to learn a free port, then releases it for sshd. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await closeServer(server);
  if (typeof address !== 'object' || address === null) {
    throw new Error('no port assigned');
  }

  return address.port;
}

function startCommandRelay(socketPath: string, handle: CommandHandler): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let received = Buffer.alloc(0);
    let started = false;
    const controller = new AbortController();
    socket.on('error', () => undefined);
    socket.on('close', () => controller.abort());
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const length = received.length >= 4 ? received.readUInt32BE(0) : undefined;
      if (started || length === undefined || received.length < 4 + length) {
        return;
      }

      started = true;
      const command = received.subarray(4, 4 + length);
      void Promise.resolve(handle(command, controller.signal)).then(
        (output) => socket.end(output),
        (error: unknown) => socket.end(`relay failed: ${String(error)}\r\n`),
      );
    });
  });

  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
