import { afterEach, describe, expect, it } from 'vitest';

import type { Run } from '../../src/jobs/types.js';
import { AgentMetrics, MAX_WAITING_OBSERVATIONS } from '../../src/status/metrics.js';
import { ManualClock } from '../support/manual-clock.js';
import { testStatusSource } from '../support/status-source.js';
import { openTempStore } from '../support/temp-store.js';

const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    cleanup();
  }
});

function newMetrics(): AgentMetrics {
  const clock = new ManualClock();
  const store = openTempStore({ clock });
  cleanups.push(() => store.dispose());
  return new AgentMetrics(testStatusSource(store, clock));
}

function finishedRun(state: Run['state']): Run {
  return {
    jobId: 'job-1',
    deviceId: 'r1',
    state,
    outputTruncated: false,
    outputBytes: 0,
    outputCaptured: true,
    startedAt: 1_000,
    finishedAt: 3_500,
    revision: 3,
  };
}

describe('AgentMetrics', () => {
  it('keeps observations made before load', async () => {
    const metrics = newMetrics();
    metrics.observeRun(finishedRun('succeeded'));
    metrics.uplinkObserver.offer?.({ jobId: 'job-1', result: 'accepted' });
    metrics.uplinkObserver.offer?.({ jobId: 'job-2', result: 'rejected', code: 'JOB_EXPIRED' });
    metrics.uplinkObserver.reconnecting?.(1_000);

    const { body } = await metrics.render();

    expect(body).toMatch(/^edge_agent_runs_total\{state="succeeded"\} 1$/m);
    expect(body).toMatch(/^edge_agent_run_duration_seconds_sum\{state="succeeded"\} 2.5$/m);
    expect(body).toMatch(/^edge_agent_jobs_received_total 1$/m);
    expect(body).toMatch(/^edge_agent_jobs_rejected_total\{code="JOB_EXPIRED"\} 1$/m);
    expect(body).toMatch(/^edge_agent_uplink_reconnects_total 1$/m);
  });

  it('counts observations made after load', async () => {
    const metrics = newMetrics();
    metrics.observeRun(finishedRun('failed'));
    await metrics.load();

    metrics.observeRun(finishedRun('failed'));
    const { body } = await metrics.render();

    expect(body).toMatch(/^edge_agent_runs_total\{state="failed"\} 2$/m);
  });

  it('defers load below the limit', () => {
    const metrics = newMetrics();
    for (let index = 1; index < MAX_WAITING_OBSERVATIONS; index++) {
      metrics.observeRun(finishedRun('succeeded'));
    }

    expect(metrics.loadStarted).toBe(false);
  });

  it('loads past the waiting limit', async () => {
    const metrics = newMetrics();
    for (let index = 0; index < MAX_WAITING_OBSERVATIONS; index++) {
      metrics.observeRun(finishedRun('succeeded'));
    }

    expect(metrics.loadStarted).toBe(true);
    const { body } = await metrics.render();
    expect(body).toMatch(
      new RegExp(`^edge_agent_runs_total\\{state="succeeded"\\} ${MAX_WAITING_OBSERVATIONS}$`, 'm'),
    );
  });

  it('ignores runs not yet final', async () => {
    const metrics = newMetrics();
    metrics.observeRun(finishedRun('running'));

    const { body } = await metrics.render();

    expect(body).not.toMatch(/^edge_agent_runs_total\{/m);
  });
});

describe('AgentMetrics first scrapes', () => {
  it('two concurrent scrapes count once', async () => {
    const metrics = newMetrics();
    metrics.observeRun(finishedRun('succeeded'));
    metrics.observeRun(finishedRun('succeeded'));

    const bodies = await Promise.all([metrics.render(), metrics.render()]);

    for (const { body } of bodies) {
      expect(body).toMatch(/^edge_agent_runs_total\{state="succeeded"\} 2$/m);
    }
  });

  it('counts an observation during load once', async () => {
    const metrics = newMetrics();
    metrics.observeRun(finishedRun('failed'));
    const scrape = metrics.render();
    metrics.observeRun(finishedRun('failed'));

    await scrape;
    const { body } = await metrics.render();

    expect(body).toMatch(/^edge_agent_runs_total\{state="failed"\} 2$/m);
  });
});
