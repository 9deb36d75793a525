/**
 * Footprint of the daemon: `edge-agent run` with a configuration of many devices on a simulated
 * fleet, connected to the reference control plane, without jobs. Measures the time from
 * spawning the process to the first 200 from `/readyz`, and the resident memory once start-up
 * has settled.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { stringify } from 'yaml';

import type { DeviceConfig } from '../src/devices/types.js';
import { type ControlPlaneProcess, startControlPlane } from './support/control-plane-process.js';
import {
  type MemorySample,
  sampleMemory,
  sleep,
  startDaemon,
  unitNodeOptions,
  waitForStatus,
} from './support/daemon.js';
import {
  type BenchMode,
  type Benchmark,
  type BenchmarkReport,
  type Log,
  MIB,
  median,
  round,
} from './support/report.js';
import { startSimulator } from './support/simulator.js';

export type FootprintParams = {
  devices: number;
  /** Starts measured for the time to ready; the first also creates the store. */
  starts: number;
  /** Wait after the uplink connected before memory is first sampled, in milliseconds. */
  earlyMs: number;
  /**
   * Wait after the uplink connected before memory is sampled as settled, in milliseconds. V8
   * gives back the young generation it grew during start-up only once its memory reducer
   * runs, which on Node 20 took 30 to 40 s of idleness.
   */
  settleMs: number;
  /** Memory readings taken 200 ms apart at each point; the median is reported. */
  readings: number;
};

const SIZES: Record<BenchMode, FootprintParams> = {
  full: { devices: 1000, starts: 5, earlyMs: 5000, settleMs: 60_000, readings: 10 },
  quick: { devices: 1000, starts: 2, earlyMs: 1000, settleMs: 3000, readings: 3 },
};

export const footprint: Benchmark = {
  name: 'footprint',
  title: 'edge-agent run: time to ready and idle memory',
  run: (mode, log) => runFootprint(SIZES[mode], log),
};

/** One start of the daemon. */
type StartSample = {
  readyMs: number;
  early?: MemorySample;
  settled?: MemorySample;
  exitCode: number | null;
};

export async function runFootprint(params: FootprintParams, log: Log): Promise<BenchmarkReport> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-footprint-'));
  log(`footprint: starting ${params.devices} simulated devices and a control plane`);
  const simulator = await startSimulator({ devices: params.devices });
  const controlPlane = await startControlPlane(directory);

  try {
    const configFile = writeAgentConfig(directory, controlPlane, simulator.inventory);
    const samples: StartSample[] = [];
    for (let index = 0; index < params.starts; index++) {
      const withMemory = index === params.starts - 1;
      log(`footprint: start ${index + 1} of ${params.starts}${withMemory ? ', with memory' : ''}`);
      samples.push(await startOnce(configFile, directory, withMemory ? params : undefined));
    }

    return report(params, samples);
  } finally {
    await controlPlane.close();
    await simulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Starts the daemon, measures the time to a 200 from `/readyz`, optionally waits for the
 * uplink and samples memory, then stops it with SIGTERM.
 */
async function startOnce(
  configFile: string,
  directory: string,
  memory: FootprintParams | undefined,
): Promise<StartSample> {
  const daemon = startDaemon(configFile, path.join(directory, 'agent.log'));
  try {
    const statusUrl = await daemon.statusUrl();
    await waitForStatus(statusUrl, '/readyz', daemon.child);
    const sample: StartSample = { readyMs: performance.now() - daemon.startedAt, exitCode: null };
    if (memory !== undefined) {
      const pid = daemon.child.pid ?? 0;
      await waitForStatus(statusUrl, '/status', daemon.child, (body) =>
        body.includes('"connected": true'),
      );
      const connectedAt = performance.now();
      await sleep(memory.earlyMs);
      sample.early = await sampleMemory(pid, memory.readings);
      await sleep(memory.settleMs - (performance.now() - connectedAt));
      sample.settled = await sampleMemory(pid, memory.readings);
    }

    sample.exitCode = await daemon.stop();
    return sample;
  } finally {
    await daemon.stop();
  }
}

function report(params: FootprintParams, samples: readonly StartSample[]): BenchmarkReport {
  const [first, ...restarts] = samples;
  const last = samples.at(-1);
  const mib = (bytes: number | undefined): number => round((bytes ?? Number.NaN) / MIB);

  return {
    name: 'footprint',
    title: footprint.title,
    metrics: [
      {
        name: 'ready, first start (new store)',
        value: round(first?.readyMs ?? Number.NaN, 0),
        unit: 'ms',
      },
      {
        name: 'ready, restart (median)',
        value: round(median(restarts.map((sample) => sample.readyMs)), 0),
        unit: 'ms',
        target: { at: 'most', value: 500 },
      },
      {
        name: `RSS ${params.earlyMs / 1000} s after connecting`,
        value: mib(last?.early?.rss),
        unit: 'MiB',
      },
      {
        name: `PSS ${params.earlyMs / 1000} s after connecting`,
        value: mib(last?.early?.pss),
        unit: 'MiB',
      },
      {
        name: `idle RSS after ${params.settleMs / 1000} s`,
        value: mib(last?.settled?.rss),
        unit: 'MiB',
        target: { at: 'most', value: 60 },
      },
      {
        name: `idle PSS after ${params.settleMs / 1000} s`,
        value: mib(last?.settled?.pss),
        unit: 'MiB',
      },
      {
        name: `idle anonymous memory after ${params.settleMs / 1000} s`,
        value: mib(last?.settled?.anonymous),
        unit: 'MiB',
      },
    ],
    checks: [
      {
        name: 'daemon exits 0 on SIGTERM',
        passed: samples.every((sample) => sample.exitCode === 0),
        detail: `exit codes ${samples.map((sample) => sample.exitCode).join(', ')}`,
      },
    ],
    details: {
      params,
      nodeOptions: unitNodeOptions(),
      readyMs: samples.map((sample) => round(sample.readyMs, 0)),
    },
  };
}

/**
 * Writes the agent configuration as an operator would for a site: shared settings in
 * `deviceDefaults`, and each device with its id, address and port.
 */
export function writeAgentConfig(
  directory: string,
  controlPlane: ControlPlaneProcess,
  inventory: readonly DeviceConfig[],
): string {
  const secrets = path.join(directory, 'secrets');
  mkdirSync(secrets, { recursive: true });
  writeFileSync(path.join(secrets, 'site-token'), `${controlPlane.siteToken}\n`, { mode: 0o600 });
  const configFile = path.join(directory, 'agent.yaml');
  const config = {
    siteId: controlPlane.siteId,
    logLevel: 'info',
    controlPlane: {
      url: controlPlane.agentUrl,
      tokenFile: 'secrets/site-token',
      allowInsecure: true,
      jobSigningKey: { keyId: controlPlane.keyId, publicKey: controlPlane.publicKey },
    },
    status: { listen: '127.0.0.1:0' },
    store: { path: 'agent.db' },
    deviceDefaults: {
      transport: 'api',
      username: inventory[0]?.username,
      passwordFile: inventory[0]?.passwordFile,
    },
    devices: inventory.map((device) => ({
      id: device.id,
      host: device.host,
      port: device.ports.api,
    })),
  };
  writeFileSync(configFile, stringify(config));
  return configFile;
}
