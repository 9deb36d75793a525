import type { Clock } from '../clock.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../logging.js';

/** How the agent reaches a device: RouterOS API (8728), API over TLS (8729) or SSH exec (22). */
export type Transport = 'api' | 'api-ssl' | 'ssh';

export const TRANSPORTS: readonly Transport[] = ['api', 'api-ssl', 'ssh'];

/** Default TCP port of each transport on RouterOS. */
export const DEFAULT_PORTS = { api: 8728, apiSsl: 8729, ssh: 22 } as const;

/**
 * API-SSL modes. `certificate`: the router has a certificate; its SHA-256 fingerprint is
 * pinned on first use unless `fingerprint` or `caFile` is configured. `anonymous`: the router
 * has no certificate and speaks anonymous Diffie-Hellman, which encrypts but authenticates no
 * one.
 */
export type TlsMode = 'certificate' | 'anonymous';

/** One device of the site inventory, validated, with defaults applied and no secrets. */
export type DeviceConfig = {
  /** Stable id used in jobs, results and logs: letters, digits, `.`, `_` and `-`. */
  id: string;
  /** Human name; defaults to the id. */
  name: string;
  /** Host name or address of the device. */
  host: string;
  /** Transport used to run scripts. */
  transport: Transport;
  /** TCP port of each transport. */
  ports: { api: number; apiSsl: number; ssh: number };
  username: string;
  /** File that contains the password (one trailing newline is ignored). */
  passwordFile?: string;
  /** File that contains an SSH private key in OpenSSH or PEM format. */
  keyFile?: string;
  /** File that contains the private key's passphrase. */
  passphraseFile?: string;
  /**
   * Code page scripts are encoded in and output is decoded with, as an iconv-lite encoding
   * name. RouterOS stores bytes without a character set; default `windows-1252`.
   */
  codePage: string;
  tags: string[];
  tls: {
    mode: TlsMode;
    /** Expected SHA-256 fingerprint of the certificate, hex with or without colons. */
    fingerprint?: string;
    /** CA bundle that must have issued the certificate. */
    caFile?: string;
  };
  ssh: {
    /** Options appended to the login name after `+`; default `ct` (no colours, no terminal probe). */
    loginOptions: string;
    /** Expected host key fingerprint (`SHA256:...`); pinned on first use when absent. */
    hostKey?: string;
  };
};

/** Secrets of one device, read from the files its config names. */
export type DeviceCredentials = {
  password?: string;
  privateKey?: Buffer;
  passphrase?: string;
};

/** What a device reports about itself after login. */
export type DeviceFacts = {
  /** RouterOS version as printed by `/system/resource`, e.g. `7.18.2 (stable)`. */
  version: string;
  board: string;
  identity: string;
  architecture: string;
};

/** What trust-on-first-use pins. */
export type PinKind = 'ssh-host-key' | 'tls-certificate';

/**
 * Storage of pinned host keys and certificate fingerprints. The daemon keeps pins in SQLite;
 * the one-shot command line keeps them in a JSON file.
 */
export interface TrustStore {
  /** The pinned fingerprint, or undefined before first use. */
  get(deviceId: string, kind: PinKind): string | undefined;
  /** Records the fingerprint seen on first use. */
  pin(deviceId: string, kind: PinKind, fingerprint: string): void;
}

export type RunOptions = {
  /** Upper bound on the whole run, from sending the script to the last output byte. */
  timeoutMs: number;
  /** Aborting stops the script on the device and ends the run as `CANCELLED`. */
  signal?: AbortSignal;
};

/** A classified failure of a run, with the device's own position where it gave one. */
export type RunError = {
  code: ErrorCode;
  message: string;
  /** 1-based line of the script the device blamed. */
  line?: number;
  /** 1-based column of the script the device blamed. */
  column?: number;
};

/** The honest outcome of running one script on one device. */
export type ScriptResult = {
  status: 'succeeded' | 'failed';
  /** Output decoded with the device's code page, CRLF kept as the device sent it. */
  output: string;
  /**
   * False when the transport could not capture what the script printed (RouterOS 6 over the
   * API without a file to write to); `output` is then empty or partial.
   */
  outputCaptured: boolean;
  /** Milliseconds since the epoch. */
  startedAt: number;
  finishedAt: number;
  error?: RunError;
};

/** One logged-in connection to one device. */
export interface DeviceSession {
  readonly device: DeviceConfig;
  /** Facts read during `open`. */
  readonly facts: DeviceFacts;
  /** Runs a script and classifies the result. Never throws for a failure of the script itself. */
  run(script: string, options: RunOptions): Promise<ScriptResult>;
  /** Returns the device's `/export` text, for the backup taken before a job runs. */
  exportConfig(options: RunOptions): Promise<string>;
  /** Logs out and closes the connection; safe to call twice. */
  close(): Promise<void>;
}

/** Everything a transport needs besides the device itself. */
export type SessionContext = {
  credentials: DeviceCredentials;
  trust: TrustStore;
  logger: Logger;
  clock: Clock;
  /** Upper bound on TCP connect, TLS or SSH handshake and login together. */
  connectTimeoutMs: number;
  /** Upper bound on any single command other than the script run itself. */
  commandTimeoutMs: number;
  /**
   * Aborting stops connecting, logging in or reading the device facts, closes the connection
   * at once and rejects with `CANCELLED`.
   */
  signal?: AbortSignal;
};

/** Opens a logged-in session or throws an AgentError with a device code. */
export type OpenSession = (device: DeviceConfig, context: SessionContext) => Promise<DeviceSession>;
