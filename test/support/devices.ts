import type { DeviceConfig } from '../../src/devices/types.js';

/** Builds a validated device configuration on loopback. */
export function makeDevice(id: string, overrides: Partial<DeviceConfig> = {}): DeviceConfig {
  return {
    id,
    name: id,
    host: '127.0.0.1',
    transport: 'api',
    ports: { api: 8728, apiSsl: 8729, ssh: 22 },
    username: 'automation',
    codePage: 'windows-1252',
    tags: [],
    tls: { mode: 'certificate' },
    ssh: { loginOptions: 'ct' },
    ...overrides,
  };
}
