/**
 * SSH fan-out against peers: the same script on the same simulated SSH devices, with the same
 * concurrency, run by the agent, by parallel-ssh and by `ansible -m raw`, each as a command of
 * its own under `/usr/bin/time`, against one simulator process. Every tool's run is checked on
 * the devices (the script counts its runs there) and by its output.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runAgent } from './support/agent-run.js';
import { BENCH_SCRIPT } from './support/bench-script.js';
import { generateKey, runAnsible, runParallelSsh, type ToolRun } from './support/peers.js';
import {
  type BenchMode,
  type Benchmark,
  type BenchmarkReport,
  type Check,
  type Log,
  type Metric,
  MIB,
  median,
  round,
} from './support/report.js';
import { type SimulatorProcess, startSimulator } from './support/simulator.js';
import { checkExecutions, checkOutputs } from './support/verify.js';

export const TOOLS = ['agent', 'parallel-ssh', 'ansible'] as const;

export type Tool = (typeof TOOLS)[number];

export type SshFanoutParams = {
  devices: number;
  concurrency: number;
  /** Delay the simulator adds before each write of exec output, in milliseconds. */
  latencyMs: number;
  /** Measured runs of each tool, after one warm-up run each when `warmUp` is set. */
  repetitions: number;
  warmUp: boolean;
  tools: readonly Tool[];
};

const SIZES: Record<BenchMode, SshFanoutParams> = {
  full: {
    devices: 200,
    concurrency: 100,
    latencyMs: 20,
    repetitions: 3,
    warmUp: true,
    tools: TOOLS,
  },
  quick: {
    devices: 40,
    concurrency: 20,
    latencyMs: 20,
    repetitions: 1,
    warmUp: false,
    tools: TOOLS,
  },
};

export const sshFanout: Benchmark = {
  name: 'ssh-fanout',
  title: 'SSH fan-out: agent, parallel-ssh and ansible -m raw',
  run: (mode, log) => runSshFanout(SIZES[mode], log),
};

/** One measured run of one tool. */
type ToolSample = {
  wallMs: number;
  cpuMs: number;
  peakPssMiB: number;
  peakRssMiB: number;
  maxProcessRssMiB: number;
  processes: number;
  failures: number;
  /** CPU time the simulator spent serving this run, in milliseconds. */
  simulatorCpuMs: number;
  /** The agent's own figures for the job, without process start. */
  jobWallMs?: number;
  jobCpuMs?: number;
};

export async function runSshFanout(params: SshFanoutParams, log: Log): Promise<BenchmarkReport> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-ssh-fanout-'));
  const keyFile = generateKey(directory);
  log(`ssh-fanout: starting ${params.devices} simulated SSH devices (RouterOS 7 profile)`);
  const simulator = await startSimulator({
    devices: params.devices,
    defaults: {
      transport: 'ssh',
      sshProfile: 'routeros7',
      // RouterOS sends no exit status, so OpenSSH exits with 255 and both peers would report
      // every device failed (ansible: unreachable) although the script ran.
      exitStatus: 'zero',
      keyFile,
      latencyMs: params.latencyMs,
    },
  });

  try {
    const samples = new Map<Tool, ToolSample[]>(params.tools.map((tool) => [tool, []]));
    const checks: Check[] = [];
    const rounds = params.repetitions + (params.warmUp ? 1 : 0);

    for (let round = 0; round < rounds; round++) {
      const warmUp = params.warmUp && round === 0;
      const label = warmUp ? 'warm-up' : `run ${params.warmUp ? round : round + 1}`;
      for (const tool of params.tools) {
        log(`ssh-fanout: ${tool}, ${label}`);
        const { sample, toolChecks } = await measureTool(
          tool,
          simulator,
          directory,
          keyFile,
          params,
        );
        for (const check of toolChecks) {
          checks.push({ ...check, name: `${tool} ${label}: ${check.name}` });
        }

        if (!warmUp) {
          samples.get(tool)?.push(sample);
        }
      }
    }

    return report(params, samples, checks);
  } finally {
    await simulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function measureTool(
  tool: Tool,
  simulator: SimulatorProcess,
  directory: string,
  keyFile: string,
  params: SshFanoutParams,
): Promise<{ sample: ToolSample; toolChecks: Check[] }> {
  const before = await simulator.tally();
  const simulatorBefore = await simulator.usage();
  const toolDirectory = path.join(directory, tool);
  mkdirSync(toolDirectory, { recursive: true });
  const options = {
    directory: toolDirectory,
    inventory: simulator.inventory,
    concurrency: params.concurrency,
    script: BENCH_SCRIPT,
    keyFile,
  };

  let run: ToolRun;
  let job: { wallMs: number; cpuMs: number } | undefined;
  if (tool === 'agent') {
    const agent = await runAgent({ ...options, repetitions: 1 });
    const repetition = agent.result.repetitions[0];
    job = { wallMs: repetition?.wallMs ?? Number.NaN, cpuMs: repetition?.cpuMs ?? Number.NaN };
    run = {
      process: agent.process,
      outputs: new Map(repetition?.runs.map((item) => [item.deviceId, item.output])),
      failures: (repetition?.runs ?? [])
        .filter((item) => item.state !== 'succeeded')
        .map((item) => ({
          deviceId: item.deviceId,
          reason: `${item.state} ${item.reasonCode ?? ''}`,
        })),
    };
  } else if (tool === 'parallel-ssh') {
    run = await runParallelSsh(options);
  } else {
    run = await runAnsible(options);
  }

  const simulatorCpuMs = (await simulator.usage()).cpuMs - simulatorBefore.cpuMs;
  const after = await simulator.tally();
  const { process } = run;
  const sample: ToolSample = {
    wallMs: process.wallMs,
    cpuMs: process.cpuMs,
    peakPssMiB: process.peak.pss / MIB,
    peakRssMiB: process.peak.rss / MIB,
    maxProcessRssMiB: process.maxRssBytes / MIB,
    processes: process.peak.processes,
    failures: run.failures.length,
    simulatorCpuMs,
    ...(job === undefined ? {} : { jobWallMs: job.wallMs, jobCpuMs: job.cpuMs }),
  };
  const toolChecks: Check[] = [
    checkExecutions('device', before, after, 1),
    checkOutputs('tool', run.outputs, after),
    {
      name: 'failures the tool reported',
      passed: run.failures.length === 0,
      detail:
        run.failures.length === 0
          ? 'none'
          : `${run.failures.length} (${run.failures
              .slice(0, 2)
              .map((item) => `${item.deviceId}: ${item.reason}`)
              .join('; ')})`,
    },
  ];
  return { sample, toolChecks };
}

function report(
  params: SshFanoutParams,
  samples: ReadonlyMap<Tool, ToolSample[]>,
  checks: Check[],
): BenchmarkReport {
  const mid = (tool: Tool, field: keyof ToolSample): number =>
    median((samples.get(tool) ?? []).map((sample) => sample[field] ?? Number.NaN));

  const metrics: Metric[] = [];
  for (const tool of params.tools) {
    const label = tool === 'agent' ? 'agent process' : tool;
    metrics.push(
      { name: `${label} wall time`, value: round(mid(tool, 'wallMs'), 0), unit: 'ms' },
      { name: `${label} CPU time`, value: round(mid(tool, 'cpuMs'), 0), unit: 'ms' },
      {
        name: `${label} peak memory (PSS of all processes)`,
        value: round(mid(tool, 'peakPssMiB')),
        unit: 'MiB',
      },
    );
    if (tool === 'agent') {
      metrics.push(
        { name: 'agent job wall time', value: round(mid(tool, 'jobWallMs'), 0), unit: 'ms' },
        { name: 'agent job CPU time', value: round(mid(tool, 'jobCpuMs'), 0), unit: 'ms' },
      );
    }
  }

  if (params.tools.includes('agent')) {
    metrics.push(...comparisons(params.tools, mid, 'jobWallMs', 'jobCpuMs', 'agent job'));
    metrics.push(...comparisons(params.tools, mid, 'wallMs', 'cpuMs', 'agent process'));
  }

  const details: Record<string, unknown> = { params };
  for (const [tool, list] of samples) {
    details[tool] = list.map((sample) =>
      Object.fromEntries(Object.entries(sample).map(([key, value]) => [key, round(value, 1)])),
    );
  }

  return { name: 'ssh-fanout', title: sshFanout.title, metrics, checks, details };
}

/**
 * Builds the target metrics against the peers for one view of the agent: its job as measured
 * inside the running daemon, or its whole process (start, job, exit) as `/usr/bin/time` measures it.
 */
function comparisons(
  tools: readonly Tool[],
  mid: (tool: Tool, field: keyof ToolSample) => number,
  wall: 'jobWallMs' | 'wallMs',
  cpu: 'jobCpuMs' | 'cpuMs',
  label: string,
): Metric[] {
  const metrics: Metric[] = [];
  if (tools.includes('parallel-ssh')) {
    metrics.push(
      {
        name: `parallel-ssh wall / ${label} wall`,
        value: round(mid('parallel-ssh', 'wallMs') / mid('agent', wall), 2),
        unit: 'x',
        target: { at: 'least', value: 1 },
      },
      {
        name: `${label} CPU / parallel-ssh CPU`,
        value: round(mid('agent', cpu) / mid('parallel-ssh', 'cpuMs'), 2),
        unit: 'x',
        target: { at: 'most', value: 0.5 },
      },
    );
  }

  if (tools.includes('ansible')) {
    metrics.push({
      name: `ansible wall / ${label} wall`,
      value: round(mid('ansible', 'wallMs') / mid('agent', wall), 1),
      unit: 'x',
      target: { at: 'least', value: 10 },
    });
  }

  return metrics;
}
