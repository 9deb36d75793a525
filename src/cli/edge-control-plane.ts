#!/usr/bin/env node
import { type CommandTable, runProgram } from './command.js';

/** Subcommands of `edge-control-plane`, each loaded only when it runs. */
const COMMANDS: CommandTable = {
  serve: async () => (await import('./control-plane/serve.js')).command,
  token: async () => (await import('./control-plane/token.js')).command,
  keygen: async () => (await import('./control-plane/keygen.js')).command,
  'site-token': async () => (await import('./control-plane/site-token.js')).command,
};

/** Options given without a subcommand (`edge-control-plane --config FILE`) mean `serve`. */
function withDefaultCommand(argv: readonly string[]): readonly string[] {
  const first = argv[0];
  if (first === '--config' || first?.startsWith('--config=') === true) {
    return ['serve', ...argv];
  }

  return argv;
}

runProgram('edge-control-plane', COMMANDS, withDefaultCommand(process.argv.slice(2)));
