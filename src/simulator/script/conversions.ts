import { DeviceTrap } from '../model/types.js';
import type { CommandArguments } from './ast.js';
import { ScriptSyntaxError } from './errors.js';
import type { GlobalCommand, Interpreter, Scope } from './evaluator.js';
import { parseScript } from './parser.js';
import { parseTime } from './time.js';
import {
  arrayEntries,
  arrayLength,
  bool,
  id,
  isIp,
  NIL,
  NOTHING,
  newArray,
  num,
  type ScriptValue,
  str,
  toArray,
  toBool,
  toNum,
  toStr,
} from './values.js';

/** A command that evaluates all its unnamed arguments and computes a value from them. */
type PureCommand = (
  values: ScriptValue[],
  interpreter: Interpreter,
) => ScriptValue | Promise<ScriptValue>;

function evaluated(command: PureCommand): GlobalCommand {
  return async (interpreter: Interpreter, args: CommandArguments, scope: Scope) => {
    const values: ScriptValue[] = [];
    for (const expression of args.positional) {
      values.push(await interpreter.evaluate(expression, scope));
    }

    return command(values, interpreter);
  };
}

function first(values: ScriptValue[]): ScriptValue {
  return values[0] ?? NOTHING;
}

function length(values: ScriptValue[]): ScriptValue {
  const value = first(values);
  if (value.type === 'array') {
    return num(arrayLength(value.value));
  }

  return num(toStr(value).length);
}

function pick(values: ScriptValue[]): ScriptValue {
  const [source = NOTHING, startValue, endValue] = values;
  const start = Math.max(0, startValue === undefined ? 0 : (toNum(startValue) ?? 0));
  const end = endValue === undefined ? start + 1 : (toNum(endValue) ?? start + 1);
  if (source.type === 'array') {
    const picked = arrayEntries(source.value)
      .slice(start, end)
      .map(([, value]) => value);
    if (endValue === undefined) {
      return picked[0] ?? NOTHING;
    }

    return newArray(picked);
  }

  return str(toStr(source).slice(start, Math.max(start, end)));
}

function find(values: ScriptValue[]): ScriptValue {
  const [source = NOTHING, key = NOTHING, fromValue] = values;
  const from = fromValue === undefined ? -1 : (toNum(fromValue) ?? -1);
  if (source.type === 'array') {
    const entries = arrayEntries(source.value);
    for (let index = from + 1; index < entries.length; index += 1) {
      const entry = entries[index];
      if (entry !== undefined && toStr(entry[1]) === toStr(key)) {
        return typeof entry[0] === 'number' ? num(entry[0]) : str(entry[0]);
      }
    }

    return NIL;
  }

  const index = toStr(source).indexOf(toStr(key), from + 1);
  return index < 0 ? NIL : num(index);
}

function typeName(values: ScriptValue[]): ScriptValue {
  return str(first(values).type);
}

function toNumber(values: ScriptValue[]): ScriptValue {
  const value = toNum(first(values));
  return value === undefined ? NIL : num(value);
}

function toBoolean(values: ScriptValue[]): ScriptValue {
  const value = toBool(first(values));
  return value === undefined ? NIL : bool(value);
}

function toId(values: ScriptValue[]): ScriptValue {
  const value = first(values);
  if (value.type === 'id') {
    return value;
  }

  const text = toStr(value);
  return /^\*[0-9A-Fa-f]+$/.test(text) ? id(Number.parseInt(text.slice(1), 16)) : NIL;
}

function toIp(values: ScriptValue[]): ScriptValue {
  const text = toStr(first(values));
  return isIp(text) ? { type: 'ip', value: text } : NIL;
}

function toTime(values: ScriptValue[]): ScriptValue {
  const value = first(values);
  if (value.type === 'time') {
    return value;
  }

  if (value.type === 'num') {
    return { type: 'time', value: value.value };
  }

  const seconds = parseTime(toStr(value));
  return seconds === undefined ? NIL : { type: 'time', value: seconds };
}

async function resolve(values: ScriptValue[], interpreter: Interpreter): Promise<ScriptValue> {
  return interpreter.host.resolve(toStr(first(values)));
}

function parse(values: ScriptValue[], interpreter: Interpreter): ScriptValue {
  const source = toStr(first(values));
  try {
    const block = parseScript(source, interpreter.host.catalog);
    return { type: 'code', value: { block, source } };
  } catch (error) {
    if (error instanceof ScriptSyntaxError) {
      throw new DeviceTrap(error.message, 3);
    }

    throw error;
  }
}

/** `:len`, `:pick`, `:find`, the `:to*` conversions, `:typeof`, `:resolve`, `:parse`. */
export function conversionCommands(): Array<[string, GlobalCommand]> {
  const commands: Array<[string, PureCommand]> = [
    ['len', length],
    ['pick', pick],
    ['find', find],
    ['tostr', (values) => str(toStr(first(values)))],
    ['tonum', toNumber],
    ['typeof', typeName],
    ['toarray', (values) => toArray(first(values))],
    ['tobool', toBoolean],
    ['toid', toId],
    ['toip', toIp],
    ['totime', toTime],
    ['resolve', resolve],
    ['nothing', () => NOTHING],
    ['parse', parse],
  ];
  return commands.map(([name, command]) => [name, evaluated(command)]);
}
