import { type ChildProcess, fork } from 'node:child_process';

import type { DeviceConfig } from '../../src/devices/types.js';
import type { FaultName } from '../../src/simulator/fleet/faults.js';
import type { FleetDeviceOptions, FleetOptions } from '../../src/simulator/fleet/options.js';
import type { SeededRandom } from './chaos-random.js';
import { childModule } from './child-module.js';

/** Runs of each job's script, by device id and then by counter name. */
export type RunCounts = Record<string, Record<string, number>>;

/** Orders the driver sends to the fleet process; each reply carries the same `id`. */
export type FleetRequest = { id: number } & (
  | { type: 'reboot'; deviceId: string; delayMs: number }
  | { type: 'disconnect'; deviceId: string; downMs: number }
  | { type: 'fault'; deviceId: string; fault: FaultName; enabled: boolean }
  | { type: 'counts' }
  | { type: 'close' }
);

type RequestBody = FleetRequest extends infer R
  ? R extends FleetRequest
    ? Omit<R, 'id'>
    : never
  : never;

export type FleetReply =
  | { type: 'ready'; inventory: DeviceConfig[] }
  | { type: 'done'; id: number; counts: RunCounts }
  | { type: 'failed'; id: number; message: string };

/** Faults the fault loop switches on for a while and off again. */
export const SWITCHED_FAULTS: readonly FaultName[] = ['hang', 'silent', 'fatal', 'close-mid-reply'];

/**
 * Builds the fleet: API, API-SSL and SSH in turn, a quarter on RouterOS 6, some slow, a few
 * with a lasting fault (`fragment`, `auth-fail`). The fault loop adds the rest while it runs.
 */
export function planFleet(count: number, random: SeededRandom): FleetDeviceOptions[] {
  const transports = ['api', 'api-ssl', 'ssh'] as const;
  return Array.from({ length: count }, (_, index) => {
    const device: FleetDeviceOptions = {
      id: `r${String(index + 1).padStart(2, '0')}`,
      transport: transports[index % transports.length] ?? 'api',
      version: random.chance(0.25) ? '6.49.10' : '7.18.2',
      rebootDelayMs: random.integer(1000, 4000),
    };
    if (random.chance(0.2)) {
      device.latencyMs = random.integer(20, 300);
    }

    if (index === 1 || index === 8) {
      device.faults = ['fragment'];
    } else if (index === 5) {
      device.faults = ['auth-fail'];
    }

    return device;
  });
}

/** The simulated fleet in a child process of its own, and the orders it takes. */
export class ChaosFleet {
  readonly inventory: DeviceConfig[];

  private readonly child: ChildProcess;

  private nextId = 1;

  /** Requests sent and awaiting their reply, by id. */
  private readonly waiting = new Map<
    number,
    (reply: Exclude<FleetReply, { type: 'ready' }>) => void
  >();

  private constructor(child: ChildProcess, inventory: DeviceConfig[]) {
    this.child = child;
    this.inventory = inventory;
    child.on('message', (message: FleetReply) => this.onReply(message));
  }

  /** Starts the fleet and resolves once every device listens. */
  static async start(devices: FleetDeviceOptions[], stateDir: string): Promise<ChaosFleet> {
    const options: FleetOptions = { fleet: devices, stateDir };
    const { script, execArgv } = childModule('bench/support/chaos-fleet-process');
    const child = fork(script, [JSON.stringify(options)], {
      execArgv,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const inventory = await new Promise<DeviceConfig[]>((resolve, reject) => {
      child.once('message', (message: FleetReply) => {
        if (message.type === 'ready') {
          resolve(message.inventory);
        }
      });
      child.once('exit', (code) => reject(new Error(`the fleet process exited with ${code}`)));
    });
    return new ChaosFleet(child, inventory);
  }

  get deviceIds(): string[] {
    return this.inventory.map((device) => device.id);
  }

  reboot(deviceId: string, delayMs: number): Promise<RunCounts> {
    return this.request({ type: 'reboot', deviceId, delayMs });
  }

  disconnect(deviceId: string, downMs: number): Promise<RunCounts> {
    return this.request({ type: 'disconnect', deviceId, downMs });
  }

  setFault(deviceId: string, fault: FaultName, enabled: boolean): Promise<RunCounts> {
    return this.request({ type: 'fault', deviceId, fault, enabled });
  }

  /** Returns how often each job's script ran on each device, reboots included. */
  counts(): Promise<RunCounts> {
    return this.request({ type: 'counts' });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }

    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close', id: this.nextId++ } satisfies FleetRequest);
    await exited;
  }

  private request(body: RequestBody): Promise<RunCounts> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (message) => {
        if (message.type === 'done') {
          resolve(message.counts);
        } else {
          reject(new Error(`the fleet failed ${body.type}: ${message.message}`));
        }
      });
      this.child.send({ ...body, id } as FleetRequest);
    });
  }

  /** Hands each reply to the request with its id. */
  private onReply(message: FleetReply): void {
    if (message.type === 'ready') {
      return;
    }

    const settle = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    settle?.(message);
  }
}
