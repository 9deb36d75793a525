import type { Transport } from '../devices/types.js';
import type { ErrorCode } from '../errors.js';
import type { RunState } from '../jobs/types.js';

/** One simulated device of the demo site and the result the demo expects from it. */
export type DemoDevice = {
  id: string;
  version: string;
  transport: Transport;
  /** Simulator faults switched on for this device. */
  faults?: readonly string[];
  /** Role of the device in the demo, printed next to its result. */
  role: string;
  expected: { state: RunState; code?: ErrorCode };
};

/**
 * The demo site. The simulator picks each device's hardware from its id: these ids give the
 * RB5009 with the factory firewall, except `lab-chr`, a cloud router without one, on which the
 * baseline script stops with an error by design.
 */
export const DEMO_DEVICES: readonly DemoDevice[] = [
  {
    id: 'hq-core',
    version: '7.18.2',
    transport: 'api',
    role: 'RouterOS 7.18 over the API',
    expected: { state: 'succeeded' },
  },
  {
    id: 'branch-ssl',
    version: '7.18.2',
    transport: 'api-ssl',
    role: 'RouterOS 7.18 over API-SSL',
    expected: { state: 'succeeded' },
  },
  {
    id: 'shop-ssh',
    version: '7.18.2',
    transport: 'ssh',
    role: 'RouterOS 7.18 over SSH',
    expected: { state: 'succeeded' },
  },
  {
    id: 'legacy-v6',
    version: '6.49.10',
    transport: 'api',
    role: 'RouterOS 6.49 over the API',
    expected: { state: 'succeeded' },
  },
  {
    id: 'lab-chr',
    version: '7.18.2',
    transport: 'api',
    role: 'no factory firewall, so the script stops with :error',
    expected: { state: 'failed', code: 'SCRIPT_FAILED' },
  },
  {
    id: 'branch-offline',
    version: '7.18.2',
    transport: 'api',
    faults: ['silent'],
    role: 'accepts TCP and never answers',
    expected: { state: 'failed', code: 'DEVICE_UNREACHABLE' },
  },
];

/** Returns the simulator's fleet file for the demo devices. */
export function demoFleetFile(): { devices: Array<Record<string, unknown>> } {
  return {
    devices: DEMO_DEVICES.map((device) => ({
      id: device.id,
      version: device.version,
      transport: device.transport,
      ...(device.faults === undefined ? {} : { faults: [...device.faults] }),
    })),
  };
}
