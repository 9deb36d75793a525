#!/usr/bin/env node
import { type CommandTable, runProgram } from './command.js';

/** Subcommands of `edge-control-plane`, each loaded only when it runs. */
const COMMANDS: CommandTable = {};

runProgram('edge-control-plane', COMMANDS);
