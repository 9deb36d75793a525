import {
  type AlgorithmList,
  type Algorithms,
  type AuthenticationType,
  Client,
  type ConnectConfig,
} from 'ssh2';

import { AgentError, errorMessage } from '../../errors.js';
import { cancelledError, withDeadline } from '../deadline.js';
import { normalizeSshFingerprint, sshHostKeyFingerprint } from '../fingerprints.js';
import type { DeviceConfig, SessionContext } from '../types.js';
import { keyAgentFor } from './key-agent.js';

/**
 * Algorithms added to ssh2's defaults so that RouterOS 6 devices can be reached: they offer
 * diffie-hellman-group-exchange-sha256/-sha1 and group14/group1-sha1 key exchange, with ssh-rsa
 * or ssh-dss host keys. The additions come last, so modern devices still get modern algorithms.
 */
export const ROUTEROS_ALGORITHMS: Algorithms = {
  kex: appended([
    'diffie-hellman-group-exchange-sha1',
    'diffie-hellman-group14-sha1',
    'diffie-hellman-group1-sha1',
  ]),
  serverHostKey: appended(['ssh-dss']),
  cipher: appended(['aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc']),
};

function appended<T>(algorithms: T[]): AlgorithmList<T> {
  return { append: algorithms, prepend: [], remove: [] };
}

/** Outcome of the host key check, kept for the error that ssh2 reports after a rejection. */
type HostKeyCheck = { expected?: string; presented?: string; source?: 'configured' | 'pinned' };

/**
 * Connects and authenticates over SSH. Throws DEVICE_UNREACHABLE, HOST_KEY_MISMATCH,
 * AUTH_FAILED, UNSUPPORTED (no common algorithm), CONNECTION_LOST, CANCELLED, or
 * SECRET_UNREADABLE when the private key cannot be parsed.
 */
export async function connectSsh(device: DeviceConfig, context: SessionContext): Promise<Client> {
  const client = new Client();
  const check: HostKeyCheck = {};
  const config = connectConfig(device, context, check);

  // ssh2 can emit several errors for one failed connection, some after `destroy()`, so the
  // listener stays for the client's whole life: the first error rejects the connect, later ones
  // only reach the debug log. Without a listener, an error event ends the process.
  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.on('error', (error) => {
      context.logger.debug({ err: error }, 'SSH connection failed');
      reject(connectFailure(device, error, check));
    });
    client.once('close', () => reject(closedBeforeReady(device)));
  });

  client.connect(config);
  try {
    await withDeadline(ready, {
      clock: context.clock,
      timeoutMs: context.connectTimeoutMs,
      signal: context.signal,
      onTimeout: () => unreachable(device, context.connectTimeoutMs),
      onAbort: () => cancelledError(context.signal, `connecting to device ${device.id}`),
    });
  } catch (error) {
    client.end();
    client.destroy();
    throw error;
  }

  return client;
}

function connectConfig(
  device: DeviceConfig,
  context: SessionContext,
  check: HostKeyCheck,
): ConnectConfig {
  const { credentials } = context;
  const options = device.ssh.loginOptions;
  const config: ConnectConfig = {
    host: device.host,
    port: device.ports.ssh,
    // RouterOS takes terminal options after `+` in the login name and strips them before
    // authenticating: `c` turns colours off, `t` terminal detection.
    username: options === '' ? device.username : `${device.username}+${options}`,
    algorithms: ROUTEROS_ALGORITHMS,
    hostVerifier: (key: Buffer) => verifyHostKey(device, context, key, check),
    // The deadline above governs; ssh2's own timer is only a backstop.
    readyTimeout: context.connectTimeoutMs + 5000,
    tryKeyboard: false,
  };

  if (credentials.privateKey !== undefined) {
    config.agent = keyAgentFor(device, credentials.privateKey, credentials.passphrase);
  }

  // NOTE: ssh2 sends the user name and password as UTF-8, so non-ASCII characters in them
  // match only a device that stored them as UTF-8; the API sends them in the device's code page.
  if (credentials.password !== undefined) {
    config.password = credentials.password;
  }

  config.authHandler = authMethods(config);
  return config;
}

/**
 * Lists the login methods to try, the key before the password. RouterOS rejects the password of
 * a user with a key (unless always-allow-password-login is set), so the key first saves a round
 * trip and spares the device a rejected password attempt on every run. ssh2's default
 * order starts with `none`, one more round trip that succeeds only on a server without login,
 * so `none` is tried only when no key and no password are configured.
 */
function authMethods(config: ConnectConfig): AuthenticationType[] {
  const methods: AuthenticationType[] = [];
  if (config.agent !== undefined) {
    methods.push('agent');
  }

  if (config.password !== undefined) {
    methods.push('password');
  }

  return methods.length === 0 ? ['none'] : methods;
}

/**
 * Accepts the host key when it matches the configured fingerprint, or the pinned one; pins the
 * first key seen when neither exists.
 */
function verifyHostKey(
  device: DeviceConfig,
  context: SessionContext,
  key: Buffer,
  check: HostKeyCheck,
): boolean {
  const presented = sshHostKeyFingerprint(key);
  check.presented = presented;

  const configured = device.ssh.hostKey;
  if (configured !== undefined) {
    check.expected = configured;
    check.source = 'configured';
    return normalizeSshFingerprint(configured) === presented;
  }

  const pinned = context.trust.get(device.id, 'ssh-host-key');
  if (pinned === undefined) {
    context.trust.pin(device.id, 'ssh-host-key', presented);
    context.logger.info({ fingerprint: presented }, 'SSH host key pinned on first use');
    return true;
  }

  check.expected = pinned;
  check.source = 'pinned';
  return normalizeSshFingerprint(pinned) === presented;
}

function connectFailure(device: DeviceConfig, error: Error, check: HostKeyCheck): AgentError {
  const level = (error as Error & { level?: string }).level;
  const address = `${device.host}:${device.ports.ssh}`;
  const details = { deviceId: device.id, host: device.host, port: device.ports.ssh };

  if (
    check.expected !== undefined &&
    check.presented !== undefined &&
    normalizeSshFingerprint(check.expected) !== check.presented
  ) {
    return new AgentError(
      'HOST_KEY_MISMATCH',
      `the SSH host key of device ${device.id} (${address}) does not match the ${check.source} one: expected ${check.expected}, presented ${check.presented}; if the key changed on purpose (reinstall, new router), update ssh.hostKey or remove the old pin`,
      {
        cause: error,
        details: { ...details, expected: check.expected, presented: check.presented },
      },
    );
  }

  if (level === 'client-authentication') {
    return new AgentError(
      'AUTH_FAILED',
      `device ${device.id} (${address}) rejected the SSH login of user "${device.username}"; check the user name, password or key (a user with a key cannot use a password unless always-allow-password-login is set)`,
      { cause: error, details },
    );
  }

  if (level === 'client-socket' || level === 'client-dns' || level === 'client-timeout') {
    return new AgentError(
      'DEVICE_UNREACHABLE',
      `cannot connect to device ${device.id} at ${address}: ${errorMessage(error)}; check the host, the port and that the SSH service is enabled`,
      { cause: error, details },
    );
  }

  if (level === 'handshake' || level === 'protocol') {
    return new AgentError(
      'UNSUPPORTED',
      `SSH handshake with device ${device.id} (${address}) failed: ${errorMessage(error)}; the device may offer no algorithm this agent supports`,
      { cause: error, details },
    );
  }

  return new AgentError(
    'CONNECTION_LOST',
    `SSH connection to device ${device.id} (${address}) failed: ${errorMessage(error)}`,
    { cause: error, details },
  );
}

function closedBeforeReady(device: DeviceConfig): AgentError {
  return new AgentError(
    'CONNECTION_LOST',
    `device ${device.id} (${device.host}:${device.ports.ssh}) closed the SSH connection before login finished`,
    { details: { deviceId: device.id } },
  );
}

function unreachable(device: DeviceConfig, timeoutMs: number): AgentError {
  return new AgentError(
    'DEVICE_UNREACHABLE',
    `device ${device.id} at ${device.host}:${device.ports.ssh} did not complete SSH login within ${timeoutMs} ms; check the host, the port and the device's /ip service address list`,
    { details: { deviceId: device.id, timeoutMs } },
  );
}
