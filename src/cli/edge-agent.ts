#!/usr/bin/env node
import { installDaemonSignals } from '../daemon/signals.js';
import { type CommandTable, runProgram } from './command.js';

/** Subcommands of `edge-agent`, each loaded only when it runs. */
const COMMANDS: CommandTable = {
  'check-config': async () => (await import('./commands/check-config.js')).checkConfigCommand,
  devices: async () => (await import('./commands/devices.js')).devicesCommand,
  exec: async () => (await import('./commands/exec.js')).execCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
};

// Loading the daemon's modules takes a few hundred milliseconds, and a service manager may send
// SIGTERM or SIGHUP in that time, so the daemon's handlers are installed before it loads.
if (process.argv[2] === 'run') {
  installDaemonSignals();
}

runProgram('edge-agent', COMMANDS);
