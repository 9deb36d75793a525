import { DeviceTrap } from '../model/types.js';
import type { CommandArguments, Expression } from './ast.js';
import { type CommandSignature, signature } from './catalog.js';
import { conversionCommands } from './conversions.js';
import { ReturnSignal, ScriptSyntaxError } from './errors.js';
import {
  type CodeValue,
  type GlobalCommand,
  Interpreter,
  iterationEntries,
  Scope,
  variableName,
} from './evaluator.js';
import { parseScript } from './parser.js';
import { parseTime } from './time.js';
import { NIL, NOTHING, num, type ScriptValue, toBool, toNum, toStr } from './values.js';

/** Signatures of the `:` commands, shared by every device's catalog. */
export const GLOBAL_SIGNATURES: ReadonlyMap<string, CommandSignature> = new Map([
  ['put', signature({ positional: ['message'] })],
  ['log', signature({ positional: ['level', 'message'] })],
  ['local', signature({ positional: ['name', 'value'], named: ['do'], code: ['do'] })],
  ['global', signature({ positional: ['name', 'value'], named: ['do'], code: ['do'] })],
  ['set', signature({ positional: ['name', 'value'], named: ['do'], code: ['do'] })],
  ['if', signature({ positional: ['condition'], named: ['do', 'else'], code: ['do', 'else'] })],
  ['foreach', signature({ positional: ['var'], named: ['in', 'do'], code: ['do'] })],
  ['for', signature({ positional: ['var'], named: ['from', 'to', 'step', 'do'], code: ['do'] })],
  ['while', signature({ positional: ['condition'], named: ['do'], code: ['do'] })],
  [
    'do',
    signature({
      positional: ['command'],
      named: ['on-error', 'while'],
      code: ['command', 'on-error'],
    }),
  ],
  ['delay', signature({ positional: ['delay-time'] })],
  ['error', signature({ positional: ['output'] })],
  ['return', signature({ positional: ['value'] })],
  ['len', signature({ positional: ['value'] })],
  ['pick', signature({ positional: ['var', 'start', 'end'] })],
  ['find', signature({ positional: ['in', 'key', 'from'] })],
  ['tostr', signature({ positional: ['value'] })],
  ['tonum', signature({ positional: ['value'] })],
  ['typeof', signature({ positional: ['value'] })],
  ['toarray', signature({ positional: ['value'] })],
  ['tobool', signature({ positional: ['value'] })],
  ['toid', signature({ positional: ['value'] })],
  ['toip', signature({ positional: ['value'] })],
  ['totime', signature({ positional: ['value'] })],
  ['resolve', signature({ positional: ['domain-name'], named: ['server', 'server-port'] })],
  ['nothing', signature({})],
  [
    'execute',
    signature({
      positional: ['script'],
      named: ['script', 'file', 'as-string'],
      flags: ['as-string'],
      code: ['script'],
    }),
  ],
  ['parse', signature({ positional: ['text'] })],
  ['time', signature({ positional: ['command'], code: ['command'] })],
]);

const LOG_LEVELS = new Set(['info', 'warning', 'error', 'debug']);

function positional(args: CommandArguments, index: number): Expression | undefined {
  return args.positional[index];
}

function named(args: CommandArguments, name: string): Expression | undefined {
  let found: Expression | undefined;
  for (const argument of args.named) {
    if (argument.name === name) {
      found = argument.value;
    }
  }

  return found;
}

async function evaluateArgument(
  interpreter: Interpreter,
  expression: Expression | undefined,
  scope: Scope,
): Promise<ScriptValue> {
  return expression === undefined ? NOTHING : interpreter.evaluate(expression, scope);
}

/** Runs a `do={...}` style argument: code runs in a child scope, other values are returned. */
async function runBody(
  interpreter: Interpreter,
  expression: Expression | undefined,
  scope: Scope,
): Promise<ScriptValue> {
  if (expression === undefined) {
    return NOTHING;
  }

  if (expression.kind === 'code') {
    return interpreter.runBlock(expression.block, new Scope(scope));
  }

  const value = await interpreter.evaluate(expression, scope);
  if (value.type === 'code') {
    return interpreter.runBlock((value.value as CodeValue).block, new Scope(scope));
  }

  return value;
}

async function condition(
  interpreter: Interpreter,
  expression: Expression | undefined,
  scope: Scope,
): Promise<boolean> {
  const value = toBool(await evaluateArgument(interpreter, expression, scope));
  if (value === undefined) {
    throw new DeviceTrap('conditional not boolean', 3);
  }

  return value;
}

const put: GlobalCommand = async (interpreter, args, scope) => {
  const value = await evaluateArgument(interpreter, positional(args, 0), scope);
  interpreter.context.write(`${toStr(value)}\r\n`);
  return NOTHING;
};

const log: GlobalCommand = async (interpreter, args, scope) => {
  const level = toStr(await evaluateArgument(interpreter, positional(args, 0), scope));
  if (!LOG_LEVELS.has(level)) {
    throw new DeviceTrap(`bad command name ${level}`, 3);
  }

  const message = toStr(await evaluateArgument(interpreter, positional(args, 1), scope));
  interpreter.host.log(level as 'info', message);
  return NOTHING;
};

async function declaredValue(interpreter: Interpreter, args: CommandArguments, scope: Scope) {
  const code = named(args, 'do');
  if (code !== undefined) {
    return interpreter.evaluate(code, scope);
  }

  const value = positional(args, 1);
  return value === undefined ? undefined : interpreter.evaluate(value, scope);
}

const local: GlobalCommand = async (interpreter, args, scope) => {
  const name = variableName(positional(args, 0) ?? failMissing('name'));
  scope.variables.set(name, (await declaredValue(interpreter, args, scope)) ?? NIL);
  return NOTHING;
};

const global: GlobalCommand = async (interpreter, args, scope) => {
  const name = variableName(positional(args, 0) ?? failMissing('name'));
  const value = await declaredValue(interpreter, args, scope);
  if (value !== undefined || !interpreter.host.globals.has(name)) {
    interpreter.host.globals.set(name, value ?? NIL);
  }

  return NOTHING;
};

const set: GlobalCommand = async (interpreter, args, scope) => {
  const target = positional(args, 0) ?? failMissing('name');
  const value = (await declaredValue(interpreter, args, scope)) ?? NOTHING;
  await interpreter.assign(target, value, scope);
  return NOTHING;
};

function failMissing(name: string): never {
  throw new DeviceTrap(`missing value of argument ${name}`, 3);
}

const ifCommand: GlobalCommand = async (interpreter, args, scope) => {
  const chosen = (await condition(interpreter, positional(args, 0), scope)) ? 'do' : 'else';
  await runBody(interpreter, named(args, chosen), scope);
  return NOTHING;
};

const foreach: GlobalCommand = async (interpreter, args, scope) => {
  const names = variableName(positional(args, 0) ?? failMissing('var')).split(',');
  const entries = iterationEntries(await evaluateArgument(interpreter, named(args, 'in'), scope));
  const body = named(args, 'do');
  for (const [key, value] of entries) {
    interpreter.checkInterrupted();
    const inner = new Scope(scope);
    if (names.length > 1) {
      inner.variables.set(
        names[0] ?? '',
        typeof key === 'number' ? num(key) : { type: 'str', value: key },
      );
      inner.variables.set(names[1] ?? '', value);
    } else {
      inner.variables.set(names[0] ?? '', value);
    }

    await runBody(interpreter, body, inner);
  }

  return NOTHING;
};

async function numberArgument(
  interpreter: Interpreter,
  expression: Expression | undefined,
  scope: Scope,
  name: string,
): Promise<number | undefined> {
  if (expression === undefined) {
    return undefined;
  }

  const value = toNum(await interpreter.evaluate(expression, scope));
  if (value === undefined) {
    throw new DeviceTrap(`invalid value for argument ${name}`, 1);
  }

  return value;
}

const forCommand: GlobalCommand = async (interpreter, args, scope) => {
  const name = variableName(positional(args, 0) ?? failMissing('var'));
  const from = (await numberArgument(interpreter, named(args, 'from'), scope, 'from')) ?? 0;
  const to = (await numberArgument(interpreter, named(args, 'to'), scope, 'to')) ?? from;
  const step =
    (await numberArgument(interpreter, named(args, 'step'), scope, 'step')) ??
    (from <= to ? 1 : -1);
  if (step === 0) {
    throw new DeviceTrap('invalid value for argument step', 1);
  }

  for (let i = from; step > 0 ? i <= to : i >= to; i += step) {
    interpreter.checkInterrupted();
    const inner = new Scope(scope);
    inner.variables.set(name, num(i));
    await runBody(interpreter, named(args, 'do'), inner);
  }

  return NOTHING;
};

const whileCommand: GlobalCommand = async (interpreter, args, scope) => {
  while (await condition(interpreter, positional(args, 0), scope)) {
    interpreter.checkInterrupted();
    await runBody(interpreter, named(args, 'do'), scope);
  }

  return NOTHING;
};

const doCommand: GlobalCommand = async (interpreter, args, scope) => {
  const body = positional(args, 0);
  const whileCondition = named(args, 'while');
  const onError = named(args, 'on-error');
  const runOnce = async (): Promise<ScriptValue> => {
    if (onError === undefined) {
      return runBody(interpreter, body, scope);
    }

    try {
      return await runBody(interpreter, body, scope);
    } catch (error) {
      if (!(error instanceof DeviceTrap) || interpreter.context.signal.aborted) {
        throw error;
      }

      return runBody(interpreter, onError, scope);
    }
  };

  if (whileCondition === undefined) {
    return runOnce();
  }

  do {
    interpreter.checkInterrupted();
    await runOnce();
  } while (await condition(interpreter, whileCondition, scope));
  return NOTHING;
};

const delay: GlobalCommand = async (interpreter, args, scope) => {
  const value = await evaluateArgument(interpreter, positional(args, 0), scope);
  const seconds = delaySeconds(value);
  if (seconds === undefined) {
    throw new DeviceTrap('invalid value for argument delay-time', 1);
  }

  await interpreter.host.delay(seconds, interpreter.context.signal).catch(() => {
    interpreter.checkInterrupted();
  });
  interpreter.checkInterrupted();
  return NOTHING;
};

/** Seconds to wait for `:delay`; with no argument the device waits until interrupted. */
function delaySeconds(value: ScriptValue): number | undefined {
  switch (value.type) {
    case 'nothing':
      return Number.POSITIVE_INFINITY;
    case 'time':
    case 'num':
      return value.value;
    case 'str':
      return parseTime(value.value) ?? toNum(value);
    default:
      return undefined;
  }
}

const error: GlobalCommand = async (interpreter, args, scope) => {
  const message = toStr(await evaluateArgument(interpreter, positional(args, 0), scope));
  throw new DeviceTrap(message, 3);
};

const returnCommand: GlobalCommand = async (interpreter, args, scope) => {
  if (positional(args, 0) === undefined) {
    throw new DeviceTrap('missing value(s) of argument(s) value', 3);
  }

  throw new ReturnSignal(await evaluateArgument(interpreter, positional(args, 0), scope));
};

const time: GlobalCommand = async (interpreter, args, scope) => {
  const started = interpreter.host.now();
  await runBody(interpreter, positional(args, 0), scope);
  return { type: 'time', value: (interpreter.host.now() - started) / 1000 };
};

/**
 * Starts a script as a background job, or with `as-string` runs it here and returns what it
 * printed.
 */
const execute: GlobalCommand = async (interpreter, args, scope) => {
  const expression = named(args, 'script') ?? positional(args, 0);
  const file = named(args, 'file');
  const asString = args.named.some((argument) => argument.name === 'as-string');
  const value = await evaluateArgument(interpreter, expression, scope);
  const code = value.type === 'code' ? (value.value as CodeValue) : undefined;
  const source = code?.source ?? toStr(value);
  if (!asString) {
    const fileName =
      file === undefined ? undefined : toStr(await interpreter.evaluate(file, scope));
    return interpreter.host.executeInBackground(
      { source, block: code?.block },
      { file: fileName, origin: 'script' },
    );
  }

  let output = '';
  try {
    const block = code?.block ?? parseScript(source, interpreter.host.catalog);
    const context = { ...interpreter.context, write: (text: string) => (output += text) };
    const inner = new Interpreter(interpreter.host, context, GLOBAL_COMMANDS);
    await inner.runCode({ block, source }, new Scope());
  } catch (failure) {
    if (!(failure instanceof ScriptSyntaxError)) {
      throw failure;
    }

    output += failure.message;
  }

  return { type: 'str', value: output };
};

/** Implementations of the `:` commands. */
export const GLOBAL_COMMANDS: ReadonlyMap<string, GlobalCommand> = new Map<string, GlobalCommand>([
  ['put', put],
  ['log', log],
  ['local', local],
  ['global', global],
  ['set', set],
  ['if', ifCommand],
  ['foreach', foreach],
  ['for', forCommand],
  ['while', whileCommand],
  ['do', doCommand],
  ['delay', delay],
  ['error', error],
  ['return', returnCommand],
  ['time', time],
  ['execute', execute],
  ...conversionCommands(),
]);
