/**
 * API fan-out: one job on many simulated devices over the RouterOS API, through the real
 * Scheduler, Runner, store and transports, against the floor the simulator's latency sets.
 * The simulator runs in a process of its own, so the agent's CPU and memory are its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runAgent } from './support/agent-run.js';
import { type ApiConversation, startApiTap } from './support/api-tap.js';
import type { FanoutRepetition } from './support/fanout-agent.js';
import {
  type BenchMode,
  type Benchmark,
  type BenchmarkReport,
  type Check,
  type Log,
  MIB,
  median,
  round,
} from './support/report.js';
import { type SimulatorProcess, startSimulator } from './support/simulator.js';
import { checkExecutions, checkOutputs } from './support/verify.js';

export type ApiFanoutParams = {
  devices: number;
  concurrency: number;
  /** Delay the simulator adds before each reply sentence, in milliseconds. */
  latencyMs: number;
  /** Jobs measured, after one warm-up job that is reported apart. */
  repetitions: number;
};

const SIZES: Record<BenchMode, ApiFanoutParams> = {
  full: { devices: 1000, concurrency: 100, latencyMs: 20, repetitions: 5 },
  quick: { devices: 200, concurrency: 100, latencyMs: 20, repetitions: 1 },
};

export const apiFanout: Benchmark = {
  name: 'api-fanout',
  title: 'API fan-out through Runner, store and transports',
  run: (mode, log) => runApiFanout(SIZES[mode], log),
};

export async function runApiFanout(params: ApiFanoutParams, log: Log): Promise<BenchmarkReport> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-api-fanout-'));
  log(`api-fanout: starting ${params.devices} simulated devices`);
  const simulator = await startSimulator({
    devices: params.devices,
    defaults: { transport: 'api', latencyMs: params.latencyMs },
  });

  try {
    const conversation = await recordConversation(simulator, directory);
    const waves = Math.ceil(params.devices / params.concurrency);
    const idealMs = params.latencyMs * conversation.replies.length * waves;

    const before = await simulator.tally();
    const simulatorCpuBefore = (await simulator.usage()).cpuMs;
    log(`api-fanout: ${params.repetitions + 1} jobs (the first a warm-up)`);
    const { result, process } = await runAgent({
      directory,
      inventory: simulator.inventory,
      concurrency: params.concurrency,
      repetitions: params.repetitions + 1,
    });
    const simulatorCpuMs = (await simulator.usage()).cpuMs - simulatorCpuBefore;
    const after = await simulator.tally();

    const [warmUp, ...measured] = result.repetitions;
    const wallMs = median(measured.map((repetition) => repetition.wallMs));
    const cpuPerRunMs = median(measured.map((repetition) => repetition.cpuMs / params.devices));
    const checks: Check[] = [
      checkExecutions('agent', before, after, result.repetitions.length),
      ...result.repetitions.map((repetition, index) =>
        checkOutputs(`agent job ${index + 1}`, outputsOf(repetition), after),
      ),
    ];

    return {
      name: 'api-fanout',
      title: apiFanout.title,
      metrics: [
        { name: 'wall time (median)', value: round(wallMs, 0), unit: 'ms' },
        { name: 'ideal', value: idealMs, unit: 'ms' },
        {
          name: 'wall time over ideal',
          value: round((wallMs / idealMs - 1) * 100),
          unit: '%',
          target: { at: 'most', value: 15 },
        },
        {
          name: 'agent CPU per run (median)',
          value: round(cpuPerRunMs, 3),
          unit: 'ms',
          target: { at: 'most', value: 2 },
        },
        { name: 'agent peak RSS', value: round(result.peakRssBytes / MIB), unit: 'MiB' },
      ],
      checks,
      details: {
        params,
        conversation: {
          requests: conversation.requests,
          replies: conversation.replies,
          commands: conversation.requests.length,
          replySentences: conversation.replies.length,
          waves,
          idealMs,
          note: 'the simulator delays every reply sentence by latencyMs, one after another on a connection',
        },
        warmUp: warmUp === undefined ? undefined : summarize(warmUp, params.devices),
        repetitions: measured.map((repetition) => summarize(repetition, params.devices)),
        agentProcess: {
          wallMs: round(process.wallMs, 0),
          cpuMs: process.cpuMs,
          setupMs: round(result.setupMs, 0),
          peakRssMiB: round(result.peakRssBytes / MIB),
        },
        simulatorCpuMs: round(simulatorCpuMs, 0),
      },
    };
  } finally {
    await simulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Runs one job on the first device through a relay that records the API sentences, so the
 * ideal is computed from what a run really sends and receives.
 */
async function recordConversation(
  simulator: SimulatorProcess,
  directory: string,
): Promise<ApiConversation> {
  const first = simulator.inventory[0];
  if (first === undefined) {
    throw new Error('the simulator has no devices');
  }

  const tap = await startApiTap(first.ports.api);
  try {
    const inventory = [{ ...first, ports: { ...first.ports, api: tap.port } }];
    const calibration = path.join(directory, 'calibration');
    await runAgent({
      directory: mkdtempSync(calibration),
      inventory,
      concurrency: 1,
      repetitions: 1,
    });
    return tap.conversation();
  } finally {
    await tap.close();
  }
}

function outputsOf(repetition: FanoutRepetition): Map<string, string> {
  return new Map(repetition.runs.map((run) => [run.deviceId, run.output]));
}

function summarize(repetition: FanoutRepetition, devices: number) {
  const states: Record<string, number> = {};
  for (const run of repetition.runs) {
    states[run.state] = (states[run.state] ?? 0) + 1;
  }

  return {
    wallMs: round(repetition.wallMs, 0),
    cpuMs: round(repetition.cpuMs, 0),
    cpuPerRunMs: round(repetition.cpuMs / devices, 3),
    eventLoopUtilization: round(repetition.eventLoopUtilization, 2),
    states,
  };
}
