import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

import type { Run } from '../jobs/types.js';
import type { OfferOutcome } from '../uplink/types.js';
import { deviceReachable, type StatusSource } from './view.js';

/** Prefix of every metric the agent exports. */
export const METRIC_PREFIX = 'edge_agent_';

/** Upper bounds of the run duration buckets, in seconds: a quick fix up to a long upgrade. */
const RUN_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The agent's Prometheus metrics in a prom-client registry of their own. Gauges read the
 * agent's state when scraped. `AgentMetrics` creates it and feeds the counters.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();

  private readonly runs: Counter<'state'>;

  private readonly runDuration: Histogram<'state'>;

  private readonly offersReceived: Counter;

  private readonly offersRejected: Counter<'code'>;

  private readonly reconnects: Counter;

  constructor(source: StatusSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });

    new Gauge({
      name: `${METRIC_PREFIX}info`,
      help: 'Always 1; the labels name the agent version and the site',
      labelNames: ['version', 'site_id'],
      registers,
    }).set({ version: source.version, site_id: source.siteId }, 1);

    this.runs = new Counter({
      name: `${METRIC_PREFIX}runs_total`,
      help: 'Runs that reached a final state since the agent started, by state',
      labelNames: ['state'],
      registers,
    });
    this.runDuration = new Histogram({
      name: `${METRIC_PREFIX}run_duration_seconds`,
      help: 'Time from a run start to its final state, for runs that contacted their device',
      labelNames: ['state'],
      buckets: RUN_DURATION_BUCKETS,
      registers,
    });
    this.offersReceived = new Counter({
      name: `${METRIC_PREFIX}jobs_received_total`,
      help: 'Job offers verified and stored, replays of stored jobs included',
      registers,
    });
    this.offersRejected = new Counter({
      name: `${METRIC_PREFIX}jobs_rejected_total`,
      help: 'Job offers not stored, by error code (JOB_* codes are final, others are offered again)',
      labelNames: ['code'],
      registers,
    });
    this.reconnects = new Counter({
      name: `${METRIC_PREFIX}uplink_reconnects_total`,
      help: 'Reconnection attempts scheduled after the control-plane link closed or failed',
      registers,
    });

    registerStateGauges(source, registers);
  }

  /** Counts a run that reached a final state. */
  observeRun(run: Run): void {
    this.runs.inc({ state: run.state });
    if (run.startedAt !== undefined && run.finishedAt !== undefined) {
      const seconds = Math.max(0, run.finishedAt - run.startedAt) / 1000;
      this.runDuration.observe({ state: run.state }, seconds);
    }
  }

  /** Renders the metrics in the Prometheus text format, with its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Counts a job offer stored or rejected. */
  countOffer(outcome: OfferOutcome): void {
    if (outcome.result === 'accepted') {
      this.offersReceived.inc();
    } else {
      this.offersRejected.inc({ code: outcome.code });
    }
  }

  /** Counts a reconnection attempt of the uplink. */
  countReconnect(): void {
    this.reconnects.inc();
  }
}

/** Gauges that read the agent's state at each scrape. */
function registerStateGauges(source: StatusSource, registers: Registry[]): void {
  new Gauge({
    name: `${METRIC_PREFIX}queue_depth`,
    help: 'Runs stored and not started yet',
    registers,
    collect() {
      this.set(source.queries.runCounts().pending ?? 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}running_runs`,
    help: 'Runs executing on devices',
    registers,
    collect() {
      this.set(source.runningRuns());
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}outbox_depth`,
    help: 'Status events not yet acknowledged by the control plane',
    registers,
    collect() {
      this.set(source.store.outbox.depth());
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}uplink_connected`,
    help: '1 while the control-plane link is up, else 0',
    registers,
    collect() {
      this.set(source.uplink().state === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}device_reachable`,
    help: '1 when the last finished run logged in to the device, 0 when it did not; absent before the first',
    labelNames: ['device'],
    registers,
    collect() {
      this.reset();
      const contacts = source.queries.lastContacts();
      for (const device of source.devices()) {
        const lastLoginAt = source.store.devices.lastLoginAt(device.id);
        const reachable = deviceReachable(lastLoginAt, contacts.get(device.id));
        if (reachable !== null) {
          this.set({ device: device.id }, reachable ? 1 : 0);
        }
      }
    },
  });
}
