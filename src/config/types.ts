import type { DeviceConfig } from '../devices/types.js';
import type { LogLevel } from '../logging.js';

/** The agent's validated configuration, with defaults applied and every path absolute. */
export type AgentConfig = {
  /** The file the configuration was read from. */
  sourceFile: string;
  /** This site's id on the control plane (a UUID). */
  siteId: string;
  controlPlane: ControlPlaneConfig;
  /** The site inventory, in file order, with `deviceDefaults` merged into each device. */
  devices: DeviceConfig[];
  runs: RunDefaults;
  status: StatusConfig;
  store: StoreConfig;
  logLevel: LogLevel;
};

export type ControlPlaneConfig = {
  /** `wss://` URL of the agent hub; `ws://` only to a loopback host or with `allowInsecure`. */
  url: string;
  /** File that contains the site token. */
  tokenFile: string;
  /** The pinned key that signs jobs; a job signed by any other key is rejected. */
  jobSigningKey: JobSigningKey;
  /** CA bundle that must have issued the control plane's certificate. */
  caFile?: string;
  /** Expected SHA-256 fingerprint of the control plane's certificate, lower-case hex. */
  fingerprint?: string;
  /** Allows `ws://` to any host. For tests and labs only: the token then travels in clear text. */
  allowInsecure: boolean;
};

export type JobSigningKey = {
  /** Id the control plane puts in `authorization.keyId` of every job it signs with this key. */
  keyId: string;
  /** The Ed25519 public key as SPKI PEM. */
  publicKeyPem: string;
};

/** Limits and timeouts of runs, in milliseconds and bytes. */
export type RunDefaults = {
  /** Runs at once on this site, over all jobs. Default 16. */
  concurrency: number;
  /** TCP connect, TLS or SSH handshake and login together. Default 10 000 ms. */
  connectTimeoutMs: number;
  /** Any single device command other than the script itself. Default 30 000 ms. */
  commandTimeoutMs: number;
  /** One run, from connecting to the last output byte, unless the job sets its own. Default 300 000 ms. */
  runTimeoutMs: number;
  /** Output stored per run; longer output keeps its head and tail. Default 262 144 bytes. */
  outputCapBytes: number;
  /**
   * Time running scripts get to finish when the agent stops. Default 5 000 ms, which keeps the
   * whole stop under the 10 s that RouterOS and the systemd unit allow.
   */
  shutdownDrainMs: number;
};

export type StatusConfig = {
  listen: { host: string; port: number };
  /** File that contains the bearer token of the status endpoint; no token means no auth. */
  tokenFile?: string;
};

export type StoreConfig = {
  /** SQLite database file. Default `/var/lib/edge-agent/agent.db`. */
  path: string;
  retention: RetentionConfig;
};

export type RetentionConfig = {
  /** Finished jobs older than this are deleted once the control plane has their results. */
  maxAgeMs: number;
  /** Upper bound on the database's used size; the oldest finished jobs go first. */
  maxSizeBytes: number;
};
