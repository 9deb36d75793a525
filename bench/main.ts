/**
 * Runs the benchmarks, prints a table and writes the figures as JSON under `bench/results/`.
 *
 * Usage: npm run bench -- [--only NAME[,NAME...]] [--quick] [--out DIR]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { apiFanout } from './api-fanout.js';
import { footprint } from './footprint.js';
import { simulatorCapacity } from './simulator-capacity.js';
import { sshFanout } from './ssh-fanout.js';
import { store } from './store.js';
import { REPOSITORY_ROOT } from './support/child-module.js';
import { describeMachine } from './support/machine.js';
import {
  type Benchmark,
  type BenchmarkReport,
  formatTable,
  meetsTarget,
} from './support/report.js';

/** Every benchmark, in the order a full run takes them. */
export const BENCHMARKS: readonly Benchmark[] = [
  apiFanout,
  sshFanout,
  store,
  footprint,
  simulatorCapacity,
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(REPOSITORY_ROOT, 'bench/results') },
      help: { type: 'boolean', short: 'h' },
    },
  });

  if (values.help === true) {
    process.stdout.write(
      `Usage: npm run bench -- [--only NAME[,NAME...]] [--quick] [--out DIR]\n\nBenchmarks: ${BENCHMARKS.map((item) => item.name).join(', ')}\n`,
    );
    return 0;
  }

  const selected = selectBenchmarks(values.only);
  const mode = values.quick ? 'quick' : 'full';
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };

  const started = performance.now();
  const reports: BenchmarkReport[] = [];
  for (const benchmark of selected) {
    const begun = performance.now();
    reports.push(await benchmark.run(mode, log));
    log(`${benchmark.name}: done in ${Math.round((performance.now() - begun) / 1000)} s`);
  }

  const totalSeconds = Math.round((performance.now() - started) / 1000);
  const machine = describeMachine();
  process.stdout.write(`\n${formatTable(reports)}\n\n`);
  process.stdout.write(
    `${mode} run of ${selected.length} benchmarks in ${totalSeconds} s on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}\n`,
  );

  mkdirSync(values.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(values.out, `bench-${mode}-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ mode, startedAt: new Date().toISOString(), totalSeconds, machine, reports }, null, 2)}\n`,
  );
  process.stdout.write(`figures written to ${path.relative(process.cwd(), file)}\n`);

  const failedChecks = reports.flatMap((report) => report.checks.filter((check) => !check.passed));
  const missed = reports.flatMap((report) =>
    report.metrics.filter((metric) => meetsTarget(metric) === false),
  );
  if (missed.length > 0) {
    // The targets are set for the full sizes. A quick run only checks that everything works.
    const note = mode === 'quick' ? ' at quick sizes; the targets apply to a full run' : '';
    process.stdout.write(`${missed.length} targets missed${note}\n`);
  }

  return failedChecks.length === 0 ? 0 : 1;
}

function selectBenchmarks(only: string | undefined): readonly Benchmark[] {
  if (only === undefined) {
    return BENCHMARKS;
  }

  const names = only.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !BENCHMARKS.some((item) => item.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((item) => item.name).join(', ')}`,
    );
  }

  return BENCHMARKS.filter((item) => names.includes(item.name));
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
