import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { systemClock } from '../../clock.js';
import type { DeviceConfig } from '../../devices/types.js';
import { AgentError } from '../../errors.js';
import { createSilentLogger, type Logger } from '../../logging.js';
import { loadOrCreateCertificate, type SimulatorCertificate } from '../api/tls.js';
import { RouterOsDevice } from '../model/device.js';
import { type HostKeySet, loadOrCreateHostKeys } from '../ssh/host-keys.js';
import { type DeviceSpec, FleetDevice } from './fleet-device.js';
import type { DeviceModelFactory, FleetOptions } from './options.js';
import { resolveDeviceSpecs } from './resolve.js';

/** A running fleet of simulated devices. */
export class Fleet {
  readonly devices: readonly FleetDevice[];

  /** Directory with generated passwords, host keys and the certificate. */
  readonly stateDir: string;

  private readonly byId: ReadonlyMap<string, FleetDevice>;

  /** True when the fleet made `stateDir` and removes it on close. */
  private readonly ownsStateDir: boolean;

  private closed = false;

  constructor(devices: FleetDevice[], stateDir: string, ownsStateDir: boolean) {
    this.devices = devices;
    this.stateDir = stateDir;
    this.ownsStateDir = ownsStateDir;
    this.byId = new Map(devices.map((device) => [device.id, device]));
  }

  /** Returns the device with `id`; throws DEVICE_NOT_FOUND naming the known ids otherwise. */
  device(id: string): FleetDevice {
    const device = this.byId.get(id);
    if (device === undefined) {
      const known = this.devices
        .slice(0, 5)
        .map((item) => item.id)
        .join(', ');
      throw new AgentError(
        'DEVICE_NOT_FOUND',
        `no simulated device "${id}"; devices: ${known}, ...`,
        {
          details: { deviceId: id },
        },
      );
    }

    return device;
  }

  /** Returns the devices in the agent's inventory shape. */
  inventory(): DeviceConfig[] {
    return this.devices.map((device) => device.toDeviceConfig());
  }

  /** Stops every device and removes the state directory when the fleet created it. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }

    this.closed = true;
    await Promise.all(this.devices.map((device) => device.stop()));
    if (this.ownsStateDir) {
      await rm(this.stateDir, { recursive: true, force: true });
    }
  }
}

/**
 * Creates the state directory and its parents, readable by this user only because it keeps
 * passwords and private keys. An existing directory keeps its mode.
 */
async function createStateDir(stateDir: string): Promise<void> {
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AgentError(
      'CONFIG_INVALID',
      `cannot create the state directory ${stateDir} (--state-dir): ${(error as NodeJS.ErrnoException).code ?? 'failed'}; choose a directory this user can create`,
      { cause: error, details: { stateDir } },
    );
  }
}

/**
 * Starts a fleet of simulated devices in this process and resolves once every service of every
 * device listens. On failure, whatever started is stopped again.
 */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'routeros-sim-')));
  if (!ownsStateDir) {
    await createStateDir(stateDir);
  }

  const logger = options.logger ?? createSilentLogger();
  const createModel = options.createModel ?? routerOsModel;
  const clock = options.clock ?? systemClock;
  const specs = await resolveDeviceSpecs(options, stateDir);

  const shared = {
    certificate: await loadOrCreateCertificate(join(stateDir, 'api-ssl'), 'routeros-sim'),
    hostKeys: await loadOrCreateHostKeys(join(stateDir, 'ssh-host-keys', 'fleet')),
  };

  const devices: FleetDevice[] = [];
  for (const spec of specs) {
    const keys = await deviceKeys(spec, stateDir, options.perDeviceKeys ?? false, shared);
    devices.push(
      new FleetDevice(spec, {
        model: createModel({ id: spec.id, identity: spec.identity, version: spec.version, clock }),
        ...keys,
        clock,
        logger,
      }),
    );
  }

  const fleet = new Fleet(devices, stateDir, ownsStateDir);
  try {
    await startAll(devices, logger);
  } catch (error) {
    await fleet.close();
    throw error;
  }

  return fleet;
}

/** Starts devices a batch at a time, so thousands of listen calls do not all queue at once. */
async function startAll(devices: readonly FleetDevice[], logger: Logger): Promise<void> {
  const batchSize = 100;
  for (let offset = 0; offset < devices.length; offset += batchSize) {
    await Promise.all(devices.slice(offset, offset + batchSize).map((device) => device.start()));
  }

  logger.info({ devices: devices.length }, 'fleet started');
}

type SharedKeys = { certificate: SimulatorCertificate; hostKeys: HostKeySet };

/**
 * Returns a device's host keys and certificate: its own when asked for or when an earlier run
 * left some in its directory (a replaced host key), else the fleet's.
 */
async function deviceKeys(
  spec: DeviceSpec,
  stateDir: string,
  perDeviceKeys: boolean,
  shared: SharedKeys,
) {
  const hostKeyDirectory = join(stateDir, 'ssh-host-keys', 'devices', spec.id);
  const own = perDeviceKeys || (await exists(hostKeyDirectory));
  if (!own) {
    return { ...shared, hostKeyDirectory };
  }

  return {
    hostKeys: await loadOrCreateHostKeys(hostKeyDirectory),
    certificate: perDeviceKeys
      ? await loadOrCreateCertificate(join(stateDir, 'api-ssl', spec.id), spec.host)
      : shared.certificate,
    hostKeyDirectory,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Builds the simulator's RouterOS model, seeded by the device id so each device differs. */
const routerOsModel: DeviceModelFactory = ({ id, identity, version, clock }) =>
  new RouterOsDevice({ version: version.text, identity, seed: id, clock });
