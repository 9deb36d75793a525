import { ScriptSyntaxError } from '../script/errors.js';
import { Interpreter, Scope } from '../script/evaluator.js';
import { GLOBAL_COMMANDS } from '../script/global-commands.js';
import type { RunContext } from '../script/host.js';
import { parseScript } from '../script/parser.js';
import type { DeviceRuntime, ScriptOutcome, ScriptSource } from './runtime.js';
import { DeviceTrap, type Origin } from './types.js';

/**
 * Parses and runs a script as the console does. A syntax error stops it before anything runs;
 * a runtime failure stops it where it happened and keeps the output printed so far.
 */
export async function runScriptSource(
  runtime: DeviceRuntime,
  script: ScriptSource,
  options: { signal: AbortSignal; origin: Origin },
): Promise<ScriptOutcome> {
  let block = script.block;
  if (block === undefined) {
    try {
      block = parseScript(script.source, runtime.catalog);
    } catch (error) {
      if (!(error instanceof ScriptSyntaxError)) {
        throw error;
      }

      const failure = { kind: 'syntax', message: error.message, position: error.position } as const;
      return { run: { output: '', failure }, trap: undefined };
    }
  }

  let output = '';
  const context: RunContext = {
    signal: options.signal,
    origin: options.origin,
    write: (text) => {
      output += text;
    },
    numbering: new Map(),
  };
  const interpreter = new Interpreter(runtime.host, context, GLOBAL_COMMANDS);
  try {
    await interpreter.runCode({ block, source: script.source }, new Scope());
    return { run: { output }, trap: undefined };
  } catch (error) {
    if (!(error instanceof DeviceTrap)) {
      throw error;
    }

    return { run: { output, failure: { kind: 'runtime', message: error.message } }, trap: error };
  }
}
