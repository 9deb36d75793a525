/**
 * SSH fan-out against peers: the same script on the same simulated SSH devices, with the same
 * concurrency, run by the agent, by parallel-ssh and by `ansible -m raw`, each as a command of
 * its own under `/usr/bin/time`, against one simulator process. Every tool's run is checked on
 * the devices (the script counts its runs there) and by its output. The agent is also run for
 * two jobs in one process: the second is a job of a running daemon, which the targets compare.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type AgentRun, runAgent } from './support/agent-run.js';
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

/** Wall and CPU time of one agent job as the agent measured it, in milliseconds. */
type JobFigures = { wallMs: number; cpuMs: number };

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
    const secondJobs: JobFigures[] = [];
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

        if (tool === 'agent') {
          log(`ssh-fanout: agent, two jobs in one process, ${label}`);
          const running = await measureRunningAgent(simulator, directory, params);
          for (const check of running.checks) {
            checks.push({ ...check, name: `running agent ${label}: ${check.name}` });
          }

          if (!warmUp) {
            secondJobs.push(running.job);
          }
        }
      }
    }

    return report(params, samples, secondJobs, checks);
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
  let job: JobFigures | undefined;
  if (tool === 'agent') {
    const agent = await runAgent({ ...options, repetitions: 1 });
    const repetition = agent.result.repetitions[0];
    job = jobFigures(repetition);
    run = {
      process: agent.process,
      outputs: outputsOf(repetition),
      failures: failuresOf(repetition),
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

/**
 * Runs two jobs in one agent process and returns the second: a job of an agent that is already
 * running, as every job of the daemon but its first after a start is. The first job loads the
 * SSH transport and warms the JIT compiler. The one-job process measured beside it shows what
 * that costs.
 */
async function measureRunningAgent(
  simulator: SimulatorProcess,
  directory: string,
  params: SshFanoutParams,
): Promise<{ job: JobFigures; checks: Check[] }> {
  const before = await simulator.tally();
  const agentDirectory = path.join(directory, 'running-agent');
  mkdirSync(agentDirectory, { recursive: true });
  const agent = await runAgent({
    directory: agentDirectory,
    inventory: simulator.inventory,
    concurrency: params.concurrency,
    repetitions: 2,
  });
  const after = await simulator.tally();
  const [first, second] = agent.result.repetitions;
  const failures = [...failuresOf(first), ...failuresOf(second)];
  const checks: Check[] = [
    checkExecutions('device', before, after, 2),
    checkOutputs('second job', outputsOf(second), after),
    {
      name: 'failures in either job',
      passed: failures.length === 0,
      detail: failures.length === 0 ? 'none' : `${failures.length} runs failed`,
    },
  ];
  return { job: jobFigures(second), checks };
}

type AgentRepetition = AgentRun['result']['repetitions'][number] | undefined;

function jobFigures(repetition: AgentRepetition): JobFigures {
  return { wallMs: repetition?.wallMs ?? Number.NaN, cpuMs: repetition?.cpuMs ?? Number.NaN };
}

function outputsOf(repetition: AgentRepetition): Map<string, string> {
  return new Map(repetition?.runs.map((item) => [item.deviceId, item.output]));
}

function failuresOf(repetition: AgentRepetition): ToolRun['failures'] {
  return (repetition?.runs ?? [])
    .filter((item) => item.state !== 'succeeded')
    .map((item) => ({ deviceId: item.deviceId, reason: `${item.state} ${item.reasonCode ?? ''}` }));
}

function report(
  params: SshFanoutParams,
  samples: ReadonlyMap<Tool, ToolSample[]>,
  secondJobs: readonly JobFigures[],
  checks: Check[],
): BenchmarkReport {
  const mid = (tool: Tool, field: keyof ToolSample): number =>
    median((samples.get(tool) ?? []).map((sample) => sample[field] ?? Number.NaN));

  const second = {
    wallMs: median(secondJobs.map((job) => job.wallMs)),
    cpuMs: median(secondJobs.map((job) => job.cpuMs)),
  };
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
        { name: 'agent first job wall time', value: round(mid(tool, 'jobWallMs'), 0), unit: 'ms' },
        { name: 'agent first job CPU time', value: round(mid(tool, 'jobCpuMs'), 0), unit: 'ms' },
        { name: 'agent second job wall time', value: round(second.wallMs, 0), unit: 'ms' },
        { name: 'agent second job CPU time', value: round(second.cpuMs, 0), unit: 'ms' },
      );
    }
  }

  if (params.tools.includes('agent')) {
    metrics.push(...comparisons(params.tools, mid, second, 'agent second job'));
    const processFigures = { wallMs: mid('agent', 'wallMs'), cpuMs: mid('agent', 'cpuMs') };
    metrics.push(...comparisons(params.tools, mid, processFigures, 'agent process'));
  }

  const details: Record<string, unknown> = { params };
  for (const [tool, list] of samples) {
    details[tool] = list.map((sample) =>
      Object.fromEntries(Object.entries(sample).map(([key, value]) => [key, round(value, 1)])),
    );
  }

  details.agentSecondJobs = secondJobs.map((job) => ({
    wallMs: round(job.wallMs, 1),
    cpuMs: round(job.cpuMs, 1),
  }));

  return { name: 'ssh-fanout', title: sshFanout.title, metrics, checks, details };
}

/**
 * Builds the target metrics against the peers for one view of the agent: its second job in one
 * process, as the agent measured it, or its whole process (start, job, exit) as `/usr/bin/time`
 * measures it.
 */
function comparisons(
  tools: readonly Tool[],
  mid: (tool: Tool, field: keyof ToolSample) => number,
  agent: JobFigures,
  label: string,
): Metric[] {
  const metrics: Metric[] = [];
  if (tools.includes('parallel-ssh')) {
    metrics.push(
      {
        name: `parallel-ssh wall / ${label} wall`,
        value: round(mid('parallel-ssh', 'wallMs') / agent.wallMs, 2),
        unit: 'x',
        target: { at: 'least', value: 1 },
      },
      {
        name: `${label} CPU / parallel-ssh CPU`,
        value: round(agent.cpuMs / mid('parallel-ssh', 'cpuMs'), 2),
        unit: 'x',
        target: { at: 'most', value: 0.5 },
      },
    );
  }

  if (tools.includes('ansible')) {
    metrics.push({
      name: `ansible wall / ${label} wall`,
      value: round(mid('ansible', 'wallMs') / agent.wallMs, 1),
      unit: 'x',
      target: { at: 'least', value: 10 },
    });
  }

  return metrics;
}
