import { sleep } from '../clock.js';
import type { AgentParts } from './parts.js';

/**
 * Time aborted runs get to record their `interrupted` state after the drain time, in
 * milliseconds. A transport that ignores the abort longer than this is left behind, and its run
 * is marked `interrupted` in the store directly.
 */
export const ABORT_GRACE_MS = 1500;

/** Maximum wait for the control plane to acknowledge the last events at a stop, in milliseconds. */
export const FLUSH_MS = 1500;

/** Interval at which the flush checks the outbox, in milliseconds. */
const FLUSH_POLL_MS = 50;

/**
 * Returns the maximum time a stop takes before its last steps (closing sockets and the store):
 * the drain time, the abort grace and the flush. The daemon's watchdog allows a little more.
 */
export function stopBudgetMs(drainMs: number): number {
  return drainMs + ABORT_GRACE_MS + FLUSH_MS;
}

/**
 * Stops a started agent in order:
 *
 * 1. no new launches (the uplink intake already refuses offers with AGENT_STOPPING);
 * 2. running scripts get `runs.shutdownDrainMs` to finish, then are aborted and end
 *    `interrupted`; pending runs stay pending and run after the next start;
 * 3. runs still marked `running` after the abort grace are marked `interrupted` in the store;
 * 4. the outbox is sent until it is empty, the link is down, or FLUSH_MS passed;
 * 5. the uplink, the status endpoint, the timers and the store close.
 */
export async function stopAgentParts(parts: AgentParts, reason: string): Promise<void> {
  const { clock, store, runner, scheduler, config } = parts;
  const logger = parts.logger.child({ component: 'shutdown' });
  const startedAt = clock.now();
  const drainMs = config.runs.shutdownDrainMs;
  logger.info({ reason, runningRuns: runner.runningCount, drainMs }, 'agent stopping');

  scheduler.stop();
  const runnerStopped = runner.stop().catch((error: unknown) => {
    logger.error({ err: error }, 'runner stop failed');
  });
  await Promise.race([runnerStopped, sleep(clock, drainMs + ABORT_GRACE_MS)]);

  // Runs the runner aborted and recorded, plus those the store marked because their transport
  // ignored the abort. No run is counted twice, because a result arriving after the store marked
  // its run is dropped.
  const interrupted = runner.interruptedByStop + interruptLeftovers(parts);
  await flushOutbox(parts);

  await parts.uplink.stop();
  await parts.status.close();
  for (const cleanup of parts.cleanups) {
    cleanup();
  }

  const outboxDepth = store.outbox.depth();
  store.close();
  logger.info(
    { ms: clock.now() - startedAt, interruptedRuns: interrupted, unsentEvents: outboxDepth },
    'agent stopped',
  );
}

/** Marks runs whose transport ignored the abort `interrupted`; returns how many. */
function interruptLeftovers(parts: AgentParts): number {
  const logger = parts.logger.child({ component: 'shutdown' });
  try {
    const runs = parts.store.runs.interruptRunning(parts.clock.now());
    for (const run of runs) {
      logger.warn({ jobId: run.jobId, deviceId: run.deviceId }, 'run interrupted by the stop');
    }

    return runs.length;
  } catch (error) {
    logger.error({ err: error }, 'runs not marked interrupted; the next start marks them instead');
    return 0;
  }
}

/** Waits until the control plane acknowledged every event, the link is down, or FLUSH_MS. */
async function flushOutbox(parts: AgentParts): Promise<void> {
  const { clock, store, uplink } = parts;
  const deadline = clock.now() + FLUSH_MS;

  while (clock.now() < deadline) {
    if (store.outbox.depth() === 0 || uplink.getStatus().state !== 'connected') {
      return;
    }

    await sleep(clock, FLUSH_POLL_MS);
  }

  parts.logger.warn(
    { unsentEvents: store.outbox.depth() },
    'events not acknowledged before the stop; they are sent after the next start',
  );
}
