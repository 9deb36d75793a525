import { EXIT } from '../cli/command.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import type { AgentConfig } from '../config/types.js';
import { errorMessage, isAgentError } from '../errors.js';
import { createLogger, type Logger } from '../logging.js';
import { Agent, StartupError } from './agent.js';
import { stopBudgetMs } from './shutdown.js';
import { type DaemonSignals, takeDaemonSignals } from './signals.js';

/** Extra time the watchdog allows past the stop budget for closing sockets and the store. */
const WATCHDOG_SLACK_MS = 1000;

/** Time the process may take to exit by itself after a clean stop before it is ended. */
const EXIT_GRACE_MS = 1000;

/** Stream for the daemon's one-line startup failures; the log goes to standard output. */
export type DaemonIo = { stderr: NodeJS.WritableStream };

/**
 * Runs the agent as the process's daemon until SIGTERM or SIGINT, and returns the exit code.
 * It is 0 after a clean stop, 2 when the configuration is missing or invalid, and 1 when the
 * agent could not start for another reason (the store, the status port). A second SIGTERM or
 * SIGINT exits at once with 128 plus the signal number. SIGHUP reloads the device inventory.
 * An unhandled rejection or exception is logged and exits with 1, so the service manager
 * restarts the agent.
 */
export async function runDaemon(configFile: string, io: DaemonIo): Promise<number> {
  let logger: Logger | undefined;
  const crash = (kind: string) => (error: unknown) => {
    if (logger === undefined) {
      io.stderr.write(`edge-agent run: ${kind}: ${errorStack(error)}\n`);
    } else {
      logger.fatal({ err: error }, kind);
    }

    process.exit(EXIT.failed);
  };
  process.on('unhandledRejection', crash('unhandled rejection'));
  process.on('uncaughtException', crash('uncaught exception'));
  // Listening from here on (from process start under `edge-agent run`), so a signal that arrives
  // while the agent starts is acted on once it has started. /readyz returns 200 before the start
  // has finished.
  const signals = takeDaemonSignals();

  let config: AgentConfig;
  try {
    config = await loadConfig(configFile);
  } catch (error) {
    io.stderr.write(`edge-agent run: ${describe(error)}\n`);
    signals.dispose();
    return EXIT.usage;
  }

  logger = createLogger({ name: 'edge-agent', level: config.logLevel });
  signals.logger = logger;
  let agent: Agent;
  try {
    agent = await Agent.start({ config, logger });
  } catch (error) {
    const phase = error instanceof StartupError ? error.phase : 'resources';
    const cause = error instanceof StartupError ? error.cause : error;
    logger.fatal({ err: cause, phase }, 'agent not started');
    io.stderr.write(`edge-agent run: ${describe(cause)}\n`);
    signals.dispose();
    return phase === 'config' ? EXIT.usage : EXIT.failed;
  }

  await waitForStop(agent, config, logger, signals);
  signals.dispose();
  // Sockets a transport did not close could keep the loop alive; the stop is complete anyway.
  setTimeout(() => {
    logger?.warn('handles still open after the stop; exiting');
    process.exit(EXIT.ok);
  }, EXIT_GRACE_MS).unref();
  return EXIT.ok;
}

/**
 * Stops the agent after the first SIGTERM or SIGINT, at once if one arrived while it started,
 * and resolves once it stopped. Reloads the inventory on SIGHUP until then.
 */
async function waitForStop(
  agent: Agent,
  config: AgentConfig,
  logger: Logger,
  signals: DaemonSignals,
): Promise<void> {
  const reload = (): void => {
    logger.info('SIGHUP received; reloading the inventory');
    agent.reload().catch((error: unknown) => {
      logger.error({ err: error }, 'reload failed; inventory unchanged');
    });
  };
  signals.onReload = reload;
  if (signals.reloadRequested) {
    reload();
  }

  const signal = await signals.stopRequested;
  signals.onReload = undefined;
  const budgetMs = stopBudgetMs(config.runs.shutdownDrainMs) + WATCHDOG_SLACK_MS;
  systemClock.setTimeout(() => {
    logger.error({ budgetMs }, 'stop took longer than its budget; exiting');
    process.exit(EXIT.failed);
  }, budgetMs);

  try {
    await agent.stop(signal);
  } catch (error) {
    logger.fatal({ err: error }, 'stop failed');
    process.exit(EXIT.failed);
  }
}

function describe(error: unknown): string {
  return isAgentError(error) ? `${error.code}: ${error.message}` : errorStack(error);
}

function errorStack(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : errorMessage(error);
}
