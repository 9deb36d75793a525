import type { Clock, TimerHandle } from '../../clock.js';
import type { DeviceConfig, TlsMode, Transport } from '../../devices/types.js';
import type { Logger } from '../../logging.js';
import { ApiServer } from '../api/server.js';
import { apiSslOptions, type SimulatorCertificate } from '../api/tls.js';
import type { RouterOsVersion, SimulatedDevice } from '../model/types.js';
import { preferredHostKey, type SshProfile } from '../ssh/algorithms.js';
import type { ExitStatusMode } from '../ssh/exec.js';
import { fingerprintOf, type HostKeySet, replaceHostKeys } from '../ssh/host-keys.js';
import { SshServer } from '../ssh/server.js';
import { addressFilter } from './addresses.js';
import { DeviceFaults, type FaultName, type FaultSettings } from './faults.js';
import { type SimulatedUser, UserDirectory } from './users.js';

/** TCP ports of the three services; 0 before listening means the kernel chooses. */
export type ServicePorts = { api: number; apiSsl: number; ssh: number };

/** Everything about one simulated device, with defaults applied. */
export type DeviceSpec = {
  id: string;
  identity: string;
  version: RouterOsVersion;
  host: string;
  /** Ports asked for; 0 lets the kernel choose. */
  ports: ServicePorts;
  /** Services that listen; a disabled service refuses TCP connections like a closed port. */
  services: { api: boolean; apiSsl: boolean; ssh: boolean };
  /** Transport written into the inventory for the agent to use. */
  transport: Transport;
  tlsMode: TlsMode;
  sshProfile: SshProfile;
  exitStatus: ExitStatusMode;
  /** Accounts; the first is the one the inventory names. */
  users: SimulatedUser[];
  /** Inventory: file with the first user's password. */
  passwordFile?: string;
  /** Inventory: file with the private key of the first user's authorized key. */
  keyFile?: string;
  /** `/ip service address=` prefixes allowed for every service; empty allows all. */
  allowedAddresses: string[];
  faults: FaultName[];
  faultSettings: Partial<FaultSettings>;
  tags: string[];
};

/** Resources a device shares with the rest of its fleet. */
export type DeviceResources = {
  model: SimulatedDevice;
  /** Certificate for API-SSL in `certificate` mode. */
  certificate: SimulatorCertificate;
  hostKeys: HostKeySet;
  /** Directory for this device's own host keys, used when they are replaced. */
  hostKeyDirectory: string;
  clock: Clock;
  logger: Logger;
};

/** Up: listening. Rebooting: down for the reboot delay. Stopped: down until `start`. */
export type DeviceState = 'up' | 'rebooting' | 'stopped';

/**
 * One simulated device: its model, faults and accounts, and the API, API-SSL and SSH servers
 * that serve them. Reboots and restarts listen again on the same ports.
 */
export class FleetDevice {
  readonly spec: DeviceSpec;

  readonly model: SimulatedDevice;

  readonly faults: DeviceFaults;

  readonly users: UserDirectory;

  private readonly resources: DeviceResources;

  private readonly logger: Logger;

  /** Delay of a reboot asked for through `reboot`, read by the model's reboot handler. */
  private nextRebootDelayMs: number | undefined;

  private readonly api: ApiServer | undefined;

  private readonly apiSsl: ApiServer | undefined;

  private readonly ssh: SshServer | undefined;

  private hostKeys: HostKeySet;

  /** Listening ports; each replaces its 0 in the spec after the first start. */
  private readonly boundPorts: ServicePorts;

  private currentState: DeviceState = 'stopped';

  /** Timer that ends a reboot; undefined unless rebooting. */
  private rebootTimer: TimerHandle | undefined;

  /** Settles when the last close of the servers finished; `start` waits for it. */
  private closing: Promise<void> = Promise.resolve();

  /** Callers of `whenUp` waiting for the device to listen again. */
  private upWaiters: Array<() => void> = [];

  constructor(spec: DeviceSpec, resources: DeviceResources) {
    this.spec = spec;
    this.resources = resources;
    this.model = resources.model;
    this.hostKeys = resources.hostKeys;
    this.faults = new DeviceFaults(spec.faults, spec.faultSettings);
    this.users = new UserDirectory(spec.users);
    this.boundPorts = { ...spec.ports };

    const logger = resources.logger.child({ device: spec.id });
    this.logger = logger;
    const isAllowed = addressFilter(spec.allowedAddresses);
    const shared = {
      host: spec.host,
      version: spec.version,
      device: this.model,
      users: this.users,
      faults: this.faults,
      clock: resources.clock,
      logger,
      reboot: () => this.reboot(),
      ...(isAllowed === undefined ? {} : { isAllowed }),
    };

    if (spec.services.api) {
      this.api = new ApiServer({ ...shared, port: spec.ports.api, tls: undefined });
    }

    if (spec.services.apiSsl) {
      const certificate = spec.tlsMode === 'certificate' ? resources.certificate : undefined;
      this.apiSsl = new ApiServer({
        ...shared,
        port: spec.ports.apiSsl,
        tls: apiSslOptions(certificate),
      });
    }

    if (spec.services.ssh) {
      this.ssh = new SshServer({
        ...shared,
        port: spec.ports.ssh,
        hostKeys: this.hostKeys,
        profile: spec.sshProfile,
        exitStatus: spec.exitStatus,
      });
    }

    this.model.onReboot(() => {
      this.goDown(this.nextRebootDelayMs ?? this.faults.settings.rebootDelayMs);
      this.nextRebootDelayMs = undefined;
    });
  }

  get id(): string {
    return this.spec.id;
  }

  get state(): DeviceState {
    return this.currentState;
  }

  /** Listening ports, or the requested ones before the first start. */
  get ports(): ServicePorts {
    return { ...this.boundPorts };
  }

  /** Starts every enabled service on its port. */
  async start(): Promise<void> {
    if (this.currentState === 'up') {
      return;
    }

    this.cancelReboot();
    await this.closing;
    const [api, apiSsl, ssh] = await Promise.all([
      this.api?.listen(this.boundPorts.api),
      this.apiSsl?.listen(this.boundPorts.apiSsl),
      this.ssh?.listen(this.boundPorts.ssh),
    ]);
    this.boundPorts.api = api ?? this.boundPorts.api;
    this.boundPorts.apiSsl = apiSsl ?? this.boundPorts.apiSsl;
    this.boundPorts.ssh = ssh ?? this.boundPorts.ssh;
    this.currentState = 'up';

    for (const resolve of this.upWaiters.splice(0)) {
      resolve();
    }
  }

  /** Stops every service and drops every connection. */
  async stop(): Promise<void> {
    this.cancelReboot();
    this.currentState = 'stopped';
    await this.closeServers();
  }

  /**
   * Reboots the device as `/system reboot` does: the model resets its jobs and variables,
   * every connection closes without a reply, nothing listens for `delayMs` (default: the
   * `rebootDelayMs` fault setting), then the services listen again on the same ports.
   */
  reboot(delayMs = this.faults.settings.rebootDelayMs): void {
    if (this.currentState !== 'up') {
      return;
    }

    this.nextRebootDelayMs = delayMs;
    const command = { path: ['system'], command: 'reboot', attributes: [], queries: [] };
    const onError = (error: unknown): void => {
      this.logger.warn({ err: error }, 'model rejected the reboot');
    };
    try {
      this.model
        .execute(command, { signal: new AbortController().signal, onRow: () => undefined })
        .catch(onError);
    } catch (error) {
      onError(error);
    }

    // A model without `/system reboot` never calls the reboot handler; go down all the same.
    this.goDown(delayMs);
  }

  /** Closes every service and listens again after `delayMs`; the model's reboot handler. */
  private goDown(delayMs: number): void {
    if (this.currentState !== 'up') {
      return;
    }

    this.currentState = 'rebooting';
    this.logger.info({ delayMs }, 'device rebooting');
    void this.closeServers();

    this.rebootTimer = this.resources.clock.setTimeout(() => this.comeBack(1), delayMs);
  }

  /**
   * Listens again after a reboot. A port chosen by the kernel comes from the ephemeral range,
   * so while the device was down an outgoing connection may have taken it as its local port;
   * listening then fails with EADDRINUSE until that connection closes, so it is retried.
   */
  private comeBack(attempt: number): void {
    this.rebootTimer = undefined;
    this.currentState = 'stopped';
    this.start().then(
      () => this.logger.info({ attempt }, 'device back after reboot'),
      (error: unknown) => {
        if (!isAddressInUse(error) || attempt >= COME_BACK_ATTEMPTS) {
          this.logger.error({ err: error, attempt }, 'device failed to come back after reboot');
          return;
        }

        this.logger.warn({ err: error, attempt }, 'device port in use after reboot; retrying');
        this.currentState = 'rebooting';
        this.rebootTimer = this.resources.clock.setTimeout(
          () => this.comeBack(attempt + 1),
          COME_BACK_RETRY_MS,
        );
      },
    );
  }

  /** Resolves once the device listens; at once when it is up. */
  whenUp(): Promise<void> {
    if (this.currentState === 'up') {
      return Promise.resolve();
    }

    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  /**
   * Gives the device new SSH host keys, saved in its own directory, so a client that pinned the
   * old key gets a mismatch. Returns the new fingerprint the inventory would show.
   */
  async replaceHostKeys(): Promise<string> {
    this.hostKeys = await replaceHostKeys(this.resources.hostKeyDirectory);
    this.ssh?.setHostKeys(this.hostKeys);
    return this.hostKeyFingerprint;
  }

  /** Fingerprint of the host key clients of this device's SSH profile verify. */
  get hostKeyFingerprint(): string {
    return fingerprintOf(preferredHostKey(this.spec.sshProfile, this.hostKeys).parsed);
  }

  /** Returns the device in the agent's inventory shape. */
  toDeviceConfig(): DeviceConfig {
    const { spec } = this;
    const [user] = spec.users;
    const config: DeviceConfig = {
      id: spec.id,
      name: spec.identity,
      host: spec.host,
      transport: spec.transport,
      ports: this.ports,
      username: user?.name ?? 'admin',
      codePage: 'windows-1252',
      tags: [...spec.tags],
      tls: { mode: spec.tlsMode },
      ssh: { loginOptions: 'ct', hostKey: this.hostKeyFingerprint },
    };

    if (spec.tlsMode === 'certificate') {
      config.tls.fingerprint = this.resources.certificate.fingerprint;
    }

    if (spec.passwordFile !== undefined) {
      config.passwordFile = spec.passwordFile;
    }

    if (spec.keyFile !== undefined) {
      config.keyFile = spec.keyFile;
    }

    return config;
  }

  private closeServers(): Promise<void> {
    this.closing = Promise.all([this.api?.close(), this.apiSsl?.close(), this.ssh?.close()]).then(
      () => undefined,
    );
    return this.closing;
  }

  private cancelReboot(): void {
    if (this.rebootTimer !== undefined) {
      this.resources.clock.clearTimeout(this.rebootTimer);
      this.rebootTimer = undefined;
    }
  }
}

/** Attempts to listen again after a reboot before the device stays down: a minute in all. */
const COME_BACK_ATTEMPTS = 300;

/** Pause between attempts to listen again after a reboot, in milliseconds. */
const COME_BACK_RETRY_MS = 200;

function isAddressInUse(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return (cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}
