/**
 * Store: run results persisted per second with `synchronous=FULL`, on a real file, through the
 * calls the runner makes. Each result is written once in a transaction of its own (the
 * runner's retry path) and once through the group commit the runner uses, with as many
 * results per commit as the concurrency lets arrive together.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Store } from '../src/store/store.js';
import type { RunOutcome } from '../src/store/types.js';
import { benchmarkJob } from './support/bench-job.js';
import {
  type BenchMode,
  type BenchmarkReport,
  type Check,
  type Log,
  median,
  round,
} from './support/report.js';

export type StoreResultsParams = {
  /** Devices per job; the protocol allows 1024 at most. */
  devices: number;
  /** Jobs written one after another for each way of writing. */
  jobs: number;
  /** Results per group commit, as many as the runner's concurrency lets finish together. */
  batchSize: number;
};

export const SIZES: Record<BenchMode, StoreResultsParams> = {
  full: { devices: 1000, jobs: 10, batchSize: 100 },
  quick: { devices: 1000, jobs: 2, batchSize: 100 },
};

type WriteMode = 'transaction per result' | 'group commit';

export async function runStoreResults(
  params: StoreResultsParams,
  log: Log,
): Promise<BenchmarkReport> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
  const store = Store.open(path.join(directory, 'agent.db'));

  try {
    log(`store-results: ${params.jobs} jobs of ${params.devices} results, each way`);
    const synchronous = store.database.pragma('synchronous', { simple: true });
    const rates: Record<WriteMode, number[]> = { 'transaction per result': [], 'group commit': [] };
    const checks: Check[] = [];

    for (let index = 0; index < params.jobs; index++) {
      for (const mode of Object.keys(rates) as WriteMode[]) {
        const { jobId, deviceIds } = startedJob(store, params.devices);
        const elapsedMs = await finishAll(store, jobId, deviceIds, mode, params.batchSize);
        rates[mode].push((deviceIds.length * 1000) / elapsedMs);
        if (index === 0) {
          checks.push(checkRecorded(store, jobId, deviceIds.length, mode));
        }
      }
    }

    const single = median(rates['transaction per result']);
    const grouped = median(rates['group commit']);
    return {
      name: 'store-results',
      title: 'Run results stored per second, synchronous=FULL',
      metrics: [
        { name: 'results/s, one transaction each', value: round(single, 0), unit: '/s' },
        {
          name: `results/s, group commit of ${params.batchSize}`,
          value: round(grouped, 0),
          unit: '/s',
          target: { at: 'least', value: 20_000 },
        },
      ],
      checks: [
        {
          name: 'synchronous=FULL',
          passed: synchronous === 2,
          detail: `PRAGMA synchronous = ${synchronous}`,
        },
        ...checks,
      ],
      details: {
        params,
        ratesPerSecond: {
          transactionPerResult: rates['transaction per result'].map((rate) => round(rate, 0)),
          groupCommit: rates['group commit'].map((rate) => round(rate, 0)),
        },
      },
    };
  } finally {
    store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Stores, launches and starts a job on `devices` devices, as the runner would before results. */
function startedJob(store: Store, devices: number): { jobId: string; deviceIds: string[] } {
  const now = Date.now();
  const deviceIds = Array.from({ length: devices }, (_, index) => `router-${index + 1}`);
  const job = benchmarkJob(':put "bench"', now);
  store.acceptJob(job);
  store.jobs.launch(job.id, deviceIds, now);
  store.database.transaction(() => {
    for (const deviceId of deviceIds) {
      store.runs.start(job.id, deviceId, now);
    }
  })();
  return { jobId: job.id, deviceIds };
}

/** Writes every result; returns the time it took, in milliseconds. */
async function finishAll(
  store: Store,
  jobId: string,
  deviceIds: readonly string[],
  mode: WriteMode,
  batchSize: number,
): Promise<number> {
  const started = performance.now();

  if (mode === 'transaction per result') {
    for (const deviceId of deviceIds) {
      store.runs.finish(jobId, deviceId, outcomeFor(deviceId));
    }
  } else {
    for (let offset = 0; offset < deviceIds.length; offset += batchSize) {
      const batch = deviceIds.slice(offset, offset + batchSize);
      await Promise.all(
        batch.map((deviceId) =>
          store.groupCommit.write(`recording run ${jobId}/${deviceId}`, () =>
            store.runs.finish(jobId, deviceId, outcomeFor(deviceId)),
          ),
        ),
      );
    }
  }

  return performance.now() - started;
}

function checkRecorded(store: Store, jobId: string, devices: number, mode: WriteMode): Check {
  const runs = store.runs.list(jobId, false);
  const succeeded = runs.filter((run) => run.state === 'succeeded').length;
  const verdict = store.jobs.get(jobId)?.verdict;
  return {
    name: `${mode}: every result stored`,
    passed: succeeded === devices && verdict === 'completed',
    detail: `${succeeded} of ${devices} runs succeeded, verdict ${verdict}`,
  };
}

function outcomeFor(deviceId: string): RunOutcome {
  const output = `bench-ok ${deviceId} run 1\r\n`;
  return {
    state: 'succeeded',
    output,
    outputTruncated: false,
    outputBytes: Buffer.byteLength(output),
    outputCaptured: true,
    finishedAt: Date.now(),
  };
}
