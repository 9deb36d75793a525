#!/usr/bin/env node
import { type CommandTable, runProgram } from './command.js';
import { withDefaultCommand } from './control-plane/options.js';

/** Subcommands of `edge-control-plane`, each loaded only when it runs. */
const COMMANDS: CommandTable = {
  serve: async () => (await import('./control-plane/serve.js')).command,
  token: async () => (await import('./control-plane/token.js')).command,
  keygen: async () => (await import('./control-plane/keygen.js')).command,
  'site-token': async () => (await import('./control-plane/site-token.js')).command,
};

runProgram('edge-control-plane', COMMANDS, withDefaultCommand(process.argv.slice(2)));
