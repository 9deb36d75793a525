import { FINAL_RUN_STATES, type Run } from '../jobs/types.js';
import type { Logger } from '../logging.js';
import type { OutboxEntry } from '../store/types.js';
import type { UplinkObserver } from '../uplink/types.js';
import type { PrometheusMetrics } from './prometheus.js';
import type { StatusSource } from './view.js';

/** Outbox events read per step while counting new run results. */
const READ_BATCH = 256;

/**
 * Observations that may wait for the registry. Past this many, prom-client is loaded without a
 * scrape, so an agent that runs jobs unscraped keeps a bounded list.
 *
 * NOTE: that load can fall in a job's runs, and importing prom-client then blocks the event loop
 * for about 40 ms (38 to 40 ms in three runs), once in the life of the process.
 */
export const MAX_WAITING_OBSERVATIONS = 256;

/** One observation, applied to the registry once it exists. */
type Observation = (registry: PrometheusMetrics) => void;

/**
 * The agent's Prometheus metrics. prom-client and its registry are loaded by `load`: on the
 * first scrape, or once MAX_WAITING_OBSERVATIONS observations wait. Its modules and process
 * metrics took 0.9 MiB of an idle agent's memory, which a site without a Prometheus scraper
 * never uses, and importing it takes about 40 ms. Observations made before wait in order and
 * are applied when the registry exists, so counters count from the process start.
 */
export class AgentMetrics {
  /** Uplink callbacks that feed the offer and reconnect counters. */
  readonly uplinkObserver: UplinkObserver;

  private readonly source: StatusSource;

  private readonly logger: Logger | undefined;

  private registry: PrometheusMetrics | undefined;

  private loading: Promise<PrometheusMetrics> | undefined;

  /**
   * Observations made before the registry was created, in order. Emptied when it is created,
   * and undefined once the load failed, when observations are dropped.
   */
  private waiting: Observation[] | undefined = [];

  /** `logger` receives the error of a failed load. */
  constructor(source: StatusSource, logger?: Logger) {
    this.source = source;
    this.logger = logger;
    this.uplinkObserver = {
      offer: (outcome) => this.record((registry) => registry.countOffer(outcome)),
      reconnecting: () => this.record((registry) => registry.countReconnect()),
    };
  }

  /**
   * Loads prom-client, creates the registry and applies the observations made so far. Calling
   * it again returns the same promise.
   */
  load(): Promise<PrometheusMetrics> {
    // The failure handler follows the creation, so a registry that fails to build, not only an
    // import that fails, also ends the waiting list rather than leaving it to grow.
    this.loading ??= import('./prometheus.js')
      .then(({ PrometheusMetrics }) => {
        const registry = new PrometheusMetrics(this.source);
        for (const observe of this.waiting ?? []) {
          observe(registry);
        }

        this.waiting = [];
        this.registry = registry;
        return registry;
      })
      .catch((error: unknown) => {
        this.waiting = undefined;
        this.logger?.error(
          { err: error },
          'metrics not available because prom-client failed to load',
        );
        throw error;
      });
    return this.loading;
  }

  /** True once the load of prom-client has begun. */
  get loadStarted(): boolean {
    return this.loading !== undefined;
  }

  /** Counts a run that reached a final state; other states are ignored. */
  observeRun(run: Run): void {
    if (FINAL_RUN_STATES.has(run.state)) {
      this.record((registry) => registry.observeRun(run));
    }
  }

  /** Renders the metrics in the Prometheus text format, with its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    const registry = await this.load();
    return registry.render();
  }

  private record(observe: Observation): void {
    if (this.registry !== undefined) {
      observe(this.registry);
      return;
    }

    this.waiting?.push(observe);
    if (this.loading === undefined && (this.waiting?.length ?? 0) >= MAX_WAITING_OBSERVATIONS) {
      // `load` logs a failure, after which observations are dropped.
      this.load().catch(() => {});
    }
  }
}

/**
 * Feeds every run that reaches a final state from now on into `metrics`, by reading the outbox
 * after each append. It reads in the outbox's own notification, before the control plane can
 * have acknowledged (and so deleted) the new events. Returns a function that stops it.
 */
export function countRunsFromOutbox(
  source: StatusSource,
  metrics: AgentMetrics,
  logger: Logger,
): () => void {
  const outbox = source.store.outbox;
  let cursor = outbox.lastSeq();

  const drain = (): void => {
    try {
      let entries: OutboxEntry[];
      do {
        entries = outbox.read(cursor, READ_BATCH);
        for (const entry of entries) {
          cursor = entry.seq;
          if (entry.event.type === 'run.updated') {
            metrics.observeRun(entry.event.run);
          }
        }
      } while (entries.length === READ_BATCH);
    } catch (error) {
      logger.warn({ err: error }, 'run metrics not updated because the outbox read failed');
    }
  };

  return outbox.subscribe(drain);
}
