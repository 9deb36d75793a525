#!/usr/bin/env node
import { type CommandTable, runProgram } from './command.js';

/** Subcommands of `edge-agent`, each loaded only when it runs. */
const COMMANDS: CommandTable = {};

runProgram('edge-agent', COMMANDS);
