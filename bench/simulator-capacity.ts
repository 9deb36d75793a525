/**
 * Capacity of the RouterOS simulator in one process: for growing fleets, how long they take to
 * start, the memory they hold, and how API requests per second and latency change with the
 * load. The knee is the load past which throughput stops growing while latency keeps rising:
 * beyond it the simulator, not its client, is the limit. The fleet runs in a process of its
 * own; the load comes from this process.
 */
import { readFileSync } from 'node:fs';
import { connect as connectSocket, type Socket } from 'node:net';

import { encodeSentence, SentenceDecoder } from '../src/devices/api/codec.js';
import {
  type BenchMode,
  type Benchmark,
  type BenchmarkReport,
  type Log,
  type Metric,
  MIB,
  round,
} from './support/report.js';
import { type SimulatorProcess, startSimulator } from './support/simulator.js';

/** Connections spread over the fleet, each keeping `depth` requests in flight. */
export type LoadShape = { connections: number; depth: number };

export type SimulatorCapacityParams = {
  deviceCounts: readonly number[];
  /**
   * Load steps, lightest first; steps with more connections than devices are skipped. One
   * request in flight is how the agent talks to a device; deeper pipelines push more requests
   * per system call through the simulator.
   */
  steps: readonly LoadShape[];
  /** Length of each step, in milliseconds. */
  stepMs: number;
};

const SIZES: Record<BenchMode, SimulatorCapacityParams> = {
  full: {
    deviceCounts: [1000, 2000, 4000],
    steps: [
      { connections: 25, depth: 1 },
      { connections: 100, depth: 1 },
      { connections: 400, depth: 1 },
      { connections: 1000, depth: 1 },
      { connections: 1000, depth: 4 },
      { connections: 1000, depth: 16 },
    ],
    stepMs: 3000,
  },
  quick: {
    deviceCounts: [500],
    steps: [
      { connections: 25, depth: 1 },
      { connections: 400, depth: 1 },
      { connections: 400, depth: 8 },
    ],
    stepMs: 1000,
  },
};

export const simulatorCapacity: Benchmark = {
  name: 'simulator-capacity',
  title: 'RouterOS simulator capacity in one process',
  run: (mode, log) => runSimulatorCapacity(SIZES[mode], log),
};

/** Measurements of one load step. */
export type LoadStep = LoadShape & {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** Share of one core the simulator process used during the step. */
  simulatorCpu: number;
  /** Share of one core this process, the load generator, used during the step. */
  clientCpu: number;
};

type FleetResult = {
  devices: number;
  startMs: number;
  rssMiB: number;
  steps: LoadStep[];
  knee: LoadStep | undefined;
};

const REQUEST = encodeSentence(['/system/identity/print']);

export async function runSimulatorCapacity(
  params: SimulatorCapacityParams,
  log: Log,
): Promise<BenchmarkReport> {
  const fleets: FleetResult[] = [];
  for (const devices of params.deviceCounts) {
    log(`simulator-capacity: ${devices} devices`);
    fleets.push(await measureFleet(devices, params));
  }

  const failures = fleets
    .flatMap((fleet) => fleet.steps)
    .reduce((sum, step) => sum + step.failures, 0);
  return {
    name: 'simulator-capacity',
    title: simulatorCapacity.title,
    metrics: fleets.flatMap(fleetMetrics),
    checks: [
      {
        name: 'every request answered without a trap',
        passed: failures === 0,
        detail: `${failures} failures`,
      },
    ],
    details: { params, fleets },
  };
}

function fleetMetrics(fleet: FleetResult): Metric[] {
  const best = Math.max(...fleet.steps.map((step) => step.requestsPerSecond));
  const knee = fleet.knee;
  return [
    { name: `${fleet.devices} devices: start`, value: round(fleet.startMs, 0), unit: 'ms' },
    { name: `${fleet.devices} devices: RSS idle`, value: round(fleet.rssMiB), unit: 'MiB' },
    { name: `${fleet.devices} devices: max requests/s`, value: round(best, 0), unit: '/s' },
    {
      name: `${fleet.devices} devices: requests in flight at the knee`,
      value: knee === undefined ? Number.NaN : knee.connections * knee.depth,
      unit: '',
    },
    {
      name: `${fleet.devices} devices: p99 latency at the knee`,
      value: round(knee?.p99Ms ?? Number.NaN, 1),
      unit: 'ms',
    },
  ];
}

async function measureFleet(
  devices: number,
  params: SimulatorCapacityParams,
): Promise<FleetResult> {
  // Distinct addresses: binding thousands of sockets to port 0 of one address gets slow in the
  // kernel's search for a free port (2,000 more took 2.5 to 7.6 s past 4,000 on this machine).
  const simulator = await startSimulator({ devices, distinctHosts: true });
  try {
    const { rss } = await simulator.usage();
    const passwordFile = simulator.inventory[0]?.passwordFile ?? '';
    const password = readFileSync(passwordFile, 'latin1').replace(/\n$/, '');
    const steps: LoadStep[] = [];
    for (const shape of params.steps.filter((step) => step.connections <= devices)) {
      steps.push(await runStep(simulator, shape, password, params.stepMs));
    }

    return { devices, startMs: simulator.startMs, rssMiB: rss / MIB, steps, knee: findKnee(steps) };
  } finally {
    await simulator.close();
  }
}

/**
 * Returns the last step before throughput stopped growing by at least 10% with more load, or
 * the last step when it never stopped.
 */
export function findKnee(steps: readonly LoadStep[]): LoadStep | undefined {
  for (let index = 1; index < steps.length; index++) {
    const previous = steps[index - 1] as LoadStep;
    if ((steps[index] as LoadStep).requestsPerSecond < previous.requestsPerSecond * 1.1) {
      return previous;
    }
  }

  return steps.at(-1);
}

async function runStep(
  simulator: SimulatorProcess,
  shape: LoadShape,
  password: string,
  stepMs: number,
): Promise<LoadStep> {
  const stride = Math.max(1, Math.floor(simulator.inventory.length / shape.connections));
  const targets = Array.from({ length: shape.connections }, (_, index) => {
    const device = simulator.inventory[index * stride];
    return { host: device?.host ?? '127.0.0.1', port: device?.ports.api ?? 0 };
  });
  const latencies: number[] = [];
  const cpuBefore = (await simulator.usage()).cpuMs;
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + stepMs;

  const results = await Promise.all(
    targets.map((target) =>
      drive({ ...target, password, depth: shape.depth, deadline }, latencies),
    ),
  );
  const elapsedMs = performance.now() - started;
  const client = process.cpuUsage(clientBefore);
  const cpuMs = (await simulator.usage()).cpuMs - cpuBefore;
  latencies.sort((a, b) => a - b);

  return {
    ...shape,
    requestsPerSecond: round((latencies.length * 1000) / elapsedMs, 0),
    p50Ms: round(latencies[Math.floor(latencies.length * 0.5)] ?? Number.NaN, 2),
    p99Ms: round(latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN, 2),
    failures: results.reduce((sum, failures) => sum + failures, 0),
    simulatorCpu: round(cpuMs / elapsedMs, 2),
    clientCpu: round((client.user + client.system) / 1000 / elapsedMs, 2),
  };
}

type Load = { host: string; port: number; password: string; depth: number; deadline: number };

/**
 * Logs in on one connection, then keeps `depth` `/system/identity/print` requests in flight,
 * sending the next as each reply ends, until the deadline. Records each request's latency;
 * resolves with the failures.
 */
function drive(load: Load, latencies: number[]): Promise<number> {
  return new Promise((resolve) => {
    const socket = connectSocket({ host: load.host, port: load.port });
    const decoder = new SentenceDecoder();
    /** Send times of the requests in flight, oldest first; the replies come back in order. */
    const inFlight: number[] = [];
    let loggedIn = false;
    let failures = 0;

    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(encodeSentence(['/login', '=name=admin', `=password=${load.password}`]));
    });
    socket.on('data', (chunk: Buffer) => {
      let replies = 0;
      for (const sentence of decoder.push(chunk)) {
        if (sentence[0] === '!trap') {
          failures++;
        } else if (sentence[0] === '!done') {
          replies++;
        }
      }

      if (replies === 0) {
        return;
      }

      const now = performance.now();
      if (!loggedIn) {
        loggedIn = true;
        send(socket, inFlight, load.depth);
        return;
      }

      for (let index = 0; index < replies; index++) {
        latencies.push(now - (inFlight.shift() ?? now));
      }

      if (now < load.deadline) {
        send(socket, inFlight, replies);
      } else if (inFlight.length === 0) {
        socket.end();
      }
    });
    socket.on('error', () => {
      failures++;
    });
    socket.on('close', () => resolve(failures));
  });
}

/** Writes `count` requests in one write and records their send time. */
function send(socket: Socket, inFlight: number[], count: number): void {
  const now = performance.now();
  for (let index = 0; index < count; index++) {
    inFlight.push(now);
  }

  socket.write(count === 1 ? REQUEST : Buffer.concat(Array<Buffer>(count).fill(REQUEST)));
}
