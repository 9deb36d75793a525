/**
 * Child process that runs the chaos driver's simulated fleet. It takes orders over the IPC
 * channel of `child_process.fork`: reboot a device, disconnect it for a while, switch a fault
 * on or off, and report how often each job's script ran on each device. The parent side is
 * `chaos-fleet.ts`.
 */
import { startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetDevice } from '../../src/simulator/fleet/fleet-device.js';
import type { FleetOptions } from '../../src/simulator/fleet/options.js';
import { RouterOsDevice } from '../../src/simulator/model/device.js';
import type { FleetReply, FleetRequest, RunCounts } from './chaos-fleet.js';
import { COUNTER_PREFIX } from './chaos-script.js';

/**
 * Run counts banked before reboots, by device id and counter name. A reboot clears a device's
 * globals, so their counts are added here just before each reboot. A job's count is this
 * banked value plus the global's current value.
 */
const banked = new Map<string, Map<string, number>>();

/** Reads the chaos counters among a device's globals. */
function liveCounters(device: FleetDevice): Map<string, number> {
  const counters = new Map<string, number>();
  const model = device.model;
  if (!(model instanceof RouterOsDevice)) {
    return counters;
  }

  for (const [name, value] of model.globals) {
    if (name.startsWith(COUNTER_PREFIX) && value.type === 'num') {
      counters.set(name, Number(value.value));
    }
  }

  return counters;
}

function bankOnReboot(device: FleetDevice): void {
  device.model.onReboot(() => {
    const bank = banked.get(device.id) ?? new Map<string, number>();
    banked.set(device.id, bank);
    for (const [name, count] of liveCounters(device)) {
      bank.set(name, (bank.get(name) ?? 0) + count);
    }
  });
}

function countRuns(devices: readonly FleetDevice[]): RunCounts {
  const counts: RunCounts = {};
  for (const device of devices) {
    const total = new Map(banked.get(device.id) ?? []);
    for (const [name, count] of liveCounters(device)) {
      total.set(name, (total.get(name) ?? 0) + count);
    }

    counts[device.id] = Object.fromEntries(total);
  }

  return counts;
}

/** Closes the device's servers, dropping every connection, and listens again after `downMs`. */
async function disconnect(device: FleetDevice, downMs: number): Promise<void> {
  await device.stop();
  setTimeout(() => {
    device.start().catch((error: unknown) => {
      process.stderr.write(`chaos fleet: ${device.id} failed to listen again: ${error}\n`);
    });
  }, downMs);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as FleetOptions;
  const fleet = await startFleet(options);
  for (const device of fleet.devices) {
    bankOnReboot(device);
  }

  const reply = (message: FleetReply): void => {
    process.send?.(message);
  };

  process.on('message', (request: FleetRequest) => {
    void handle(request).then(
      () => reply({ type: 'done', id: request.id, counts: countRuns(fleet.devices) }),
      (error: unknown) => reply({ type: 'failed', id: request.id, message: String(error) }),
    );
  });

  const handle = async (request: FleetRequest): Promise<void> => {
    switch (request.type) {
      case 'reboot':
        fleet.device(request.deviceId).reboot(request.delayMs);
        return;
      case 'disconnect':
        await disconnect(fleet.device(request.deviceId), request.downMs);
        return;
      case 'fault': {
        const faults = fleet.device(request.deviceId).faults;
        if (request.enabled) {
          faults.enable(request.fault);
        } else {
          faults.disable(request.fault);
        }

        return;
      }
      case 'counts':
        return;
      case 'close':
        await fleet.close();
        process.exit(0);
    }
  };

  process.once('disconnect', () => {
    void fleet.close().then(() => process.exit(0));
  });
  reply({ type: 'ready', inventory: fleet.inventory() });
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos fleet: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
