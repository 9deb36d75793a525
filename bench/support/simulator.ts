import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';

import type { DeviceConfig } from '../../src/devices/types.js';
import type { FleetOptions } from '../../src/simulator/fleet/options.js';
import { childModule } from './child-module.js';

/** Counts the simulator keeps for one device. */
export type DeviceTally = {
  id: string;
  identity: string;
  /** Scripts the device started, from any origin (the agent's fact queries included). */
  executions: number;
  /** Runs of the benchmark script, counted by the script itself on the device. */
  scriptRuns: number;
};

export type SimulatorRequest = { type: 'tally' } | { type: 'usage' } | { type: 'close' };

export type SimulatorReply =
  | { type: 'ready'; inventory: DeviceConfig[]; startMs: number }
  | { type: 'tally'; devices: DeviceTally[] }
  | { type: 'usage'; cpuMs: number; rss: number };

/** A simulated fleet running in a child process of its own. */
export type SimulatorProcess = {
  inventory: DeviceConfig[];
  /** Time the fleet took to listen on every port, in milliseconds. */
  startMs: number;
  pid: number;
  /** Per-device execution counts, in inventory order. */
  tally(): Promise<DeviceTally[]>;
  /** CPU time the simulator process used so far, in milliseconds, and its RSS in bytes. */
  usage(): Promise<{ cpuMs: number; rss: number }>;
  close(): Promise<void>;
};

/** Starts a fleet in a child process and resolves once every device listens. */
export async function startSimulator(options: FleetOptions): Promise<SimulatorProcess> {
  const { script, execArgv } = childModule('bench/support/simulator-process');
  const child = fork(script, [JSON.stringify(options)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  const ready = await nextReply(child, 'ready');
  return {
    inventory: ready.inventory,
    startMs: ready.startMs,
    pid: child.pid ?? 0,
    tally: async () => {
      child.send({ type: 'tally' } satisfies SimulatorRequest);
      return (await nextReply(child, 'tally')).devices;
    },
    usage: async () => {
      child.send({ type: 'usage' } satisfies SimulatorRequest);
      const { cpuMs, rss } = await nextReply(child, 'usage');
      return { cpuMs, rss };
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }

      const exited = once(child, 'exit');
      child.send({ type: 'close' } satisfies SimulatorRequest);
      await exited;
    },
  };
}

/** Waits for the child's next reply of `type`; rejects when the child exits first. */
function nextReply<T extends SimulatorReply['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<SimulatorReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: SimulatorReply): void => {
      if (message.type === type) {
        cleanup();
        resolve(message as Extract<SimulatorReply, { type: T }>);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`the simulator process exited with code ${code} before its ${type} reply`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };

    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
