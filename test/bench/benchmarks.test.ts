import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { runApiFanout } from '../../bench/api-fanout.js';
import { runFootprint } from '../../bench/footprint.js';
import { compareFootprints, formatComparison } from '../../bench/footprint-compare.js';
import { runOutboxReplay } from '../../bench/outbox-replay.js';
import { runSimulatorCapacity } from '../../bench/simulator-capacity.js';
import { runSshFanout, type Tool } from '../../bench/ssh-fanout.js';
import { runStoreResults } from '../../bench/store-results.js';
import { type BenchmarkReport, formatTable } from '../../bench/support/report.js';

/**
 * Every benchmark module at a tiny size, end to end against real child processes: these tests
 * check that each one runs and that its correctness checks hold, never how fast anything is.
 */

const quiet = (): void => undefined;

/** Names of the report's checks that failed, with their details. */
function failedChecks(report: BenchmarkReport): string[] {
  return report.checks
    .filter((check) => !check.passed)
    .map((check) => `${check.name}: ${check.detail}`);
}

function metric(report: BenchmarkReport, name: string): number | undefined {
  return report.metrics.find((item) => item.name === name)?.value;
}

describe('benchmark modules', () => {
  it('api fan-out runs every device once', { timeout: 60_000 }, async () => {
    const report = await runApiFanout(
      { devices: 6, concurrency: 3, latencyMs: 5, repetitions: 1 },
      quiet,
    );
    const conversation = report.details.conversation as { requests: string[] };

    expect(failedChecks(report)).toEqual([]);
    expect(report.checks.map((check) => check.name)).toContain(
      'agent: script ran 2x on each device',
    );
    expect(conversation.requests).toEqual([
      '/login',
      '/system/resource/print',
      '/system/identity/print',
      '/execute',
    ]);
    expect(metric(report, 'ideal')).toBe(5 * 6 * 2);
  });

  const peers = existsSync('/usr/bin/parallel-ssh') && existsSync('/usr/bin/ansible');
  const tools: Tool[] = peers ? ['agent', 'parallel-ssh', 'ansible'] : ['agent'];

  it('ssh fan-out checks every tool', { timeout: 120_000 }, async () => {
    const report = await runSshFanout(
      { devices: 4, concurrency: 2, latencyMs: 0, repetitions: 1, warmUp: false, tools },
      quiet,
    );

    expect(failedChecks(report)).toEqual([]);
    expect(report.checks).toHaveLength(3 * tools.length);
    expect(metric(report, 'agent job wall time')).toBeGreaterThan(0);
    expect(metric(report, 'agent process wall time')).toBeGreaterThan(0);
  });

  it('store results records every run', { timeout: 60_000 }, async () => {
    const report = await runStoreResults({ devices: 20, jobs: 1, batchSize: 5 }, quiet);

    expect(failedChecks(report)).toEqual([]);
    expect(report.checks.map((check) => check.name)).toEqual([
      'synchronous=FULL',
      'transaction per result: every result stored',
      'group commit: every result stored',
    ]);
  });

  it('outbox replay delivers each event once', { timeout: 60_000 }, async () => {
    const report = await runOutboxReplay({ events: 200, devices: 20 }, quiet);

    expect(failedChecks(report)).toEqual([]);
    expect(metric(report, 'events replayed')).toBe(5 * 42);
  });

  it('footprint starts and stops the daemon', { timeout: 120_000 }, async () => {
    const report = await runFootprint(
      { devices: 20, starts: 2, earlyMs: 100, settleMs: 300, readings: 1 },
      quiet,
    );

    expect(failedChecks(report)).toEqual([]);
    expect(metric(report, 'ready, restart (median)')).toBeGreaterThan(0);
    expect(metric(report, 'idle RSS after 0.3 s')).toBeGreaterThan(0);
    expect(metric(report, 'idle anonymous memory after 0.3 s')).toBeGreaterThan(0);
  });

  it('footprint compare samples each variant', { timeout: 60_000 }, async () => {
    const results = await compareFootprints(
      {
        devices: 2,
        rounds: 1,
        settleMs: 100,
        readings: 1,
        variants: [{ name: 'first' }, { name: 'second' }],
      },
      quiet,
    );

    expect(results.map((result) => result.name)).toEqual(['first', 'second']);
    expect(results.every((result) => (result.rss[0] ?? 0) > 0)).toBe(true);
    expect(formatComparison(results)).toContain('second: RSS median');
  });

  it('simulator capacity answers every request', { timeout: 60_000 }, async () => {
    const report = await runSimulatorCapacity(
      {
        deviceCounts: [10],
        steps: [
          { connections: 5, depth: 1 },
          { connections: 5, depth: 4 },
        ],
        stepMs: 300,
      },
      quiet,
    );

    expect(failedChecks(report)).toEqual([]);
    expect(metric(report, '10 devices: max requests/s')).toBeGreaterThan(0);
    expect(formatTable([report])).toContain('10 devices: start');
  });
});
