#!/usr/bin/env node
import { parseArgs } from 'node:util';

import { errorMessage } from '../errors.js';
import { INTERRUPTED_EXIT, runDemo } from './run-demo.js';

const USAGE = `Usage: npm run demo [-- --keep]

Starts the reference control plane, six simulated RouterOS devices and the edge agent on
127.0.0.1, pushes config/examples/branch-baseline.rsc through the Scripts API, and shows the
progress and each device's result. Exits 0 when every device ended as expected.

Options:
  --keep   keep the temporary directory with configurations, databases and state
  --help   print this help
`;

/**
 * Runs `npm run demo`. Ctrl-C (SIGINT) or SIGTERM stops the demo and its child processes. A
 * second signal exits at once, and the exit kills the children.
 */
async function main(): Promise<number> {
  let keep = false;
  try {
    const { values } = parseArgs({
      options: { keep: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }

    keep = values.keep === true;
  } catch (error) {
    process.stderr.write(`demo: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      process.exit(INTERRUPTED_EXIT);
    }

    process.stderr.write(`demo: ${signal} received; stopping\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  return runDemo({ keep, signal: abort.signal });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
