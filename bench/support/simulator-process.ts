/**
 * Child process that runs a simulated fleet for a benchmark, so that the simulator's CPU time
 * and memory are never counted as the agent's or a peer tool's. The parent (`simulator.ts`)
 * talks to it over the IPC channel of `child_process.fork`.
 */
import { startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetOptions } from '../../src/simulator/fleet/options.js';
import { RouterOsDevice } from '../../src/simulator/model/device.js';
import { RUN_COUNTER } from './bench-script.js';
import type { DeviceTally, SimulatorReply, SimulatorRequest } from './simulator.js';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as FleetOptions;
  const started = performance.now();
  const fleet = await startFleet(options);
  const startMs = performance.now() - started;

  const tally = (): DeviceTally[] =>
    fleet.devices.map((device) => {
      const model = device.model;
      const counter = model instanceof RouterOsDevice ? model.globals.get(RUN_COUNTER) : undefined;
      return {
        id: device.id,
        identity: model.identity,
        executions: model.executions,
        scriptRuns: counter?.type === 'num' ? Number(counter.value) : 0,
      };
    });

  const reply = (message: SimulatorReply): void => {
    process.send?.(message);
  };

  process.on('message', (request: SimulatorRequest) => {
    if (request.type === 'tally') {
      reply({ type: 'tally', devices: tally() });
    } else if (request.type === 'usage') {
      const cpu = process.cpuUsage();
      reply({
        type: 'usage',
        cpuMs: (cpu.user + cpu.system) / 1000,
        rss: process.memoryUsage().rss,
      });
    } else if (request.type === 'close') {
      void fleet.close().then(() => process.exit(0));
    }
  });
  process.once('disconnect', () => {
    void fleet.close().then(() => process.exit(0));
  });

  reply({ type: 'ready', inventory: fleet.inventory(), startMs });
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator-process: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
