import { pino } from 'pino';

import { EXIT } from '../../cli/command.js';
import { AgentError, errorMessage } from '../../errors.js';
import { createLogger } from '../../logging.js';
import { helpText, parseCommandLine, writeInventory } from './command-line.js';
import { type Fleet, startFleet } from './fleet.js';

export type SimulatorIo = {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
};

/**
 * Runs `routeros-sim`: starts the fleet, writes the inventory, prints a readiness line on
 * standard error and runs until `shutdown` aborts, then closes every server. Returns the exit
 * code: 0 after a clean stop, 2 for bad usage or configuration, 1 when the fleet failed.
 */
export async function runSimulator(
  argv: readonly string[],
  io: SimulatorIo,
  shutdown: AbortSignal,
): Promise<number> {
  let command: Awaited<ReturnType<typeof parseCommandLine>>;
  try {
    command = await parseCommandLine(argv);
  } catch (error) {
    io.stderr.write(`routeros-sim: ${errorMessage(error)}\n`);
    return EXIT.usage;
  }

  if (command.kind === 'help') {
    io.stdout.write(helpText());
    return EXIT.ok;
  }

  const logger = createLogger({
    name: 'routeros-sim',
    level: command.logLevel,
    destination: pino.destination({ dest: 2, sync: false }),
  });

  let fleet: Fleet;
  try {
    const started = Date.now();
    fleet = await startFleet({ ...command.fleet, logger });
    await writeInventory(fleet.inventory(), command.inventoryFile, io.stdout);
    logger.info({ devices: fleet.devices.length, startMs: Date.now() - started }, 'fleet ready');
  } catch (error) {
    io.stderr.write(`routeros-sim: ${errorMessage(error)}\n`);
    const usageError =
      error instanceof AgentError && ['USAGE_INVALID', 'CONFIG_INVALID'].includes(error.code);
    return usageError ? EXIT.usage : EXIT.failed;
  }

  io.stderr.write(`routeros-sim: ${fleet.devices.length} devices ready\n`);
  await waitForAbort(shutdown);
  await fleet.close();
  logger.info('fleet stopped');
  return EXIT.ok;
}

/** Maximum delay Node timers accept, in milliseconds (about 24.8 days). */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * Resolves when `signal` aborts. A referenced interval keeps the process alive until then:
 * while every device reboots, no server listens and the reboot timers are unreferenced, so
 * nothing else holds the event loop open.
 */
function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, MAX_TIMER_DELAY_MS);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}
