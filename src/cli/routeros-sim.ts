#!/usr/bin/env node
import { runSimulator } from '../simulator/fleet/run-simulator.js';

/** Entry point of `routeros-sim`: SIGINT and SIGTERM stop the fleet cleanly. */
const shutdown = new AbortController();
process.once('SIGINT', () => shutdown.abort());
process.once('SIGTERM', () => shutdown.abort());

runSimulator(process.argv.slice(2), process, shutdown.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`routeros-sim: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
