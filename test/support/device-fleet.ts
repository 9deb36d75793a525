import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { systemClock } from '../../src/clock.js';
import { JsonFileTrustStore } from '../../src/devices/json-trust-store.js';
import type { DeviceConfig, SessionContext, TlsMode, Transport } from '../../src/devices/types.js';
import { createSilentLogger } from '../../src/logging.js';
import type { Fleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetDevice } from '../../src/simulator/fleet/fleet-device.js';

/** RouterOS versions the transports are tested against: before and after each API change. */
export const VERSIONS = ['6.42', '6.49.10', '7.17', '7.18.2'] as const;

/** One way of reaching a device: a transport and, for API-SSL, the TLS mode. */
export type AccessMode = { name: string; transport: Transport; tlsMode: TlsMode };

export const ACCESS_MODES: readonly AccessMode[] = [
  { name: 'api', transport: 'api', tlsMode: 'certificate' },
  { name: 'api-ssl certificate', transport: 'api-ssl', tlsMode: 'certificate' },
  { name: 'api-ssl anonymous', transport: 'api-ssl', tlsMode: 'anonymous' },
  { name: 'ssh', transport: 'ssh', tlsMode: 'certificate' },
];

/** Fleet device id for a version and TLS mode: `v7-18-2-certificate`. */
export function fleetDeviceId(version: string, tlsMode: TlsMode): string {
  return `v${version.replaceAll('.', '-')}-${tlsMode}`;
}

/** Fleet entries: one device per version and TLS mode, quick to reboot. */
export function matrixFleetEntries(versions: readonly string[] = VERSIONS) {
  return versions.flatMap((version) =>
    (['certificate', 'anonymous'] as const).map((tlsMode) => ({
      id: fleetDeviceId(version, tlsMode),
      version,
      tlsMode,
      rebootDelayMs: 200,
    })),
  );
}

/** A device of the fleet as the agent's inventory names it, reached through `mode`. */
export function deviceConfigFor(fleet: Fleet, version: string, mode: AccessMode) {
  const device = fleet.device(fleetDeviceId(version, mode.tlsMode));
  const config: DeviceConfig = { ...device.toDeviceConfig(), transport: mode.transport };
  return { device, config };
}

/** A temporary known-hosts file, removed by `remove`. */
export async function temporaryTrustStore() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-trust-'));
  return {
    store: new JsonFileTrustStore(path.join(dir, 'known-hosts.json')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A session context with the device's password from its password file. */
export async function sessionContextFor(
  config: DeviceConfig,
  trust: SessionContext['trust'],
  overrides: Partial<SessionContext> = {},
): Promise<SessionContext> {
  const password =
    config.passwordFile === undefined
      ? undefined
      : (await readFile(config.passwordFile, 'utf8')).replace(/\n$/, '');
  return {
    credentials: password === undefined ? {} : { password },
    trust,
    logger: createSilentLogger(),
    clock: systemClock,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 5000,
    ...overrides,
  };
}

/** Switches every fault off on every device and waits until rebooted devices are back. */
export async function resetFleet(devices: readonly FleetDevice[]): Promise<void> {
  for (const device of devices) {
    device.faults.clear();
  }

  await Promise.all(devices.map((device) => device.whenUp()));
}
