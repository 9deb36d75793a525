/**
 * Store: run results stored per second (`store-results.ts`) and the replay of buffered status
 * events to the control plane (`outbox-replay.ts`), reported as one benchmark.
 */
import { SIZES as REPLAY_SIZES, runOutboxReplay } from './outbox-replay.js';
import { SIZES as RESULTS_SIZES, runStoreResults } from './store-results.js';
import type { Benchmark, BenchmarkReport } from './support/report.js';

export const store: Benchmark = {
  name: 'store',
  title: 'Store: results per second and outbox replay',
  async run(mode, log): Promise<BenchmarkReport> {
    const results = await runStoreResults(RESULTS_SIZES[mode], log);
    const replay = await runOutboxReplay(REPLAY_SIZES[mode], log);
    return {
      name: 'store',
      title: store.title,
      metrics: [...results.metrics, ...replay.metrics],
      checks: [...results.checks, ...replay.checks],
      details: { results: results.details, replay: replay.details },
    };
  },
};
