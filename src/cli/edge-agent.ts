#!/usr/bin/env node
import { type CommandTable, runProgram } from './command.js';

/** Subcommands of `edge-agent`, each loaded only when it runs. */
const COMMANDS: CommandTable = {
  'check-config': async () => (await import('./commands/check-config.js')).checkConfigCommand,
  devices: async () => (await import('./commands/devices.js')).devicesCommand,
  exec: async () => (await import('./commands/exec.js')).execCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
};

runProgram('edge-agent', COMMANDS);
