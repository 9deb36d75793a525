import type { Clock } from '../../clock.js';
import type { TlsMode, Transport } from '../../devices/types.js';
import type { Logger } from '../../logging.js';
import type { RouterOsVersion, SimulatedDevice } from '../model/types.js';
import type { SshProfile } from '../ssh/algorithms.js';
import type { ExitStatusMode } from '../ssh/exec.js';
import type { FaultName } from './faults.js';
import type { ServicePorts } from './fleet-device.js';

/**
 * Settings of one simulated device, every field optional: from a fleet file, from the command
 * line (as defaults for every device) or from a test.
 */
export type FleetDeviceOptions = {
  /** Inventory id; default `router-0001`, `router-0002`, ... */
  id?: string;
  /** `/system identity`; default the id. */
  identity?: string;
  /** RouterOS version such as `7.18.2`, `6.49.10` or `6.43rc4`; default `7.18.2`. */
  version?: string;
  /** Transport the inventory names for the agent; default `api`. */
  transport?: Transport;
  /** Services that listen; default all three. */
  services?: Transport[];
  /** API-SSL with a certificate or anonymous DH; default `certificate`. */
  tlsMode?: TlsMode;
  /** SSH algorithm profile; default from the version and `strongCrypto`. */
  sshProfile?: SshProfile;
  /** RouterOS 6 `/ip ssh strong-crypto`; default false. */
  strongCrypto?: boolean;
  /** Exit status sent after SSH exec; default `none`, as RouterOS. */
  exitStatus?: ExitStatusMode;
  /** Login name; default `admin`. */
  user?: string;
  /** Password as bytes in a latin1 string. Default: read from `passwordFile`, else generated. */
  password?: string;
  /** File with the password; written into the inventory. */
  passwordFile?: string;
  /** OpenSSH authorized_keys text for the user. */
  authorizedKeys?: string;
  /** Private key file whose public key is authorized; written into the inventory. */
  keyFile?: string;
  /** RouterOS `always-allow-password-login`; default false. */
  alwaysAllowPasswordLogin?: boolean;
  /** `/ip service address=` prefixes; default empty, which allows every client. */
  allowedAddresses?: string[];
  faults?: FaultName[];
  /** Delay before each reply, in milliseconds; default 0. */
  latencyMs?: number;
  /** How long a reboot keeps the device down, in milliseconds; default 2000. */
  rebootDelayMs?: number;
  /** Chunk size of the `fragment` fault, in bytes; default 3. */
  fragmentBytes?: number;
  /** Pause between chunks of the `fragment` fault, in milliseconds; default 2. */
  fragmentPauseMs?: number;
  tags?: string[];
  /** Listen address; default the fleet's host or distinct address. */
  host?: string;
  /** Ports; default from the fleet's base ports. */
  ports?: Partial<ServicePorts>;
};

/** Builds the model of one device; the fleet calls it once per device. */
export type DeviceModelFactory = (device: {
  id: string;
  identity: string;
  version: RouterOsVersion;
  clock: Clock;
}) => SimulatedDevice;

export type FleetOptions = {
  /** Number of devices when `fleet` is not given; default 1. */
  devices?: number;
  /** One entry per device; each entry overrides `defaults`. */
  fleet?: FleetDeviceOptions[];
  /** Settings applied to every device before its own entry. */
  defaults?: FleetDeviceOptions;
  /** Listen address of every device; default `127.0.0.1`. */
  host?: string;
  /** Gives device N the address 127.0.X.Y instead of `host`; default false. */
  distinctHosts?: boolean;
  /** First port of each service; 0 (default) lets the kernel choose every port. */
  basePorts?: Partial<ServicePorts>;
  /**
   * Directory for generated passwords, host keys and the certificate, kept across restarts.
   * Default: a new temporary directory, removed when the fleet closes.
   */
  stateDir?: string;
  /** Gives each device its own SSH host keys and certificate; default false (shared). */
  perDeviceKeys?: boolean;
  /** Builds each device's model; default the simulator's RouterOS model. */
  createModel?: DeviceModelFactory;
  clock?: Clock;
  logger?: Logger;
};

export const DEFAULT_VERSION = '7.18.2';

export const DEFAULT_USER = 'admin';

/** Returns the default id of the device at `index` (from 0): `router-0001`, ... */
export function defaultDeviceId(index: number): string {
  return `router-${String(index + 1).padStart(4, '0')}`;
}
