import type { MenuCall, RunContext } from '../script/host.js';
import {
  arrayEntries,
  formatId,
  NOTHING,
  newArray,
  type ScriptValue,
  toStr,
} from '../script/values.js';
import type { MenuNode } from './command-catalog.js';
import { printConsole } from './console-print.js';
import { runDirectoryCommand } from './directory-commands.js';
import { exportMenus } from './export.js';
import { writeFile } from './files.js';
import { scriptValueOf } from './format.js';
import type { PropertyInput } from './menu-engine.js';
import { noSuchItem } from './menu-engine.js';
import type { MenuSpec } from './menu-spec.js';
import type { DeviceRuntime } from './runtime.js';
import type { Item } from './state.js';
import { runStoredScript } from './stored-scripts.js';
import { monitorTraffic } from './streams.js';
import { DeviceTrap } from './types.js';

/** Text of a value as a menu argument: arrays become comma-separated lists. */
export function argumentText(value: ScriptValue | undefined): string {
  if (value === undefined) {
    return '';
  }

  if (value.type === 'array') {
    return arrayEntries(value.value)
      .map(([, item]) => toStr(item))
      .join(',');
  }

  return toStr(value);
}

/** Item references in a value: ids, numbers, names, arrays of them, comma lists. */
export function referencesOf(value: ScriptValue | undefined): string[] {
  if (value === undefined || value.type === 'nothing' || value.type === 'nil') {
    return [];
  }

  if (value.type === 'array') {
    return arrayEntries(value.value).flatMap(([, item]) => referencesOf(item));
  }

  if (value.type === 'id') {
    return [formatId(value.value)];
  }

  return toStr(value)
    .split(',')
    .filter((part) => part !== '');
}

function input(call: MenuCall, skip: ReadonlySet<string>): PropertyInput {
  const result: Array<[string, string]> = [];
  for (const [name, value] of call.named) {
    if (!skip.has(name)) {
      result.push([name, argumentText(value)]);
    }
  }

  return result;
}

const NUMBER_ARGUMENTS = new Set(['numbers', 'number']);

function targetItems(runtime: DeviceRuntime, spec: MenuSpec, call: MenuCall, context: RunContext) {
  const reference = call.positional[0] ?? call.named.get('numbers') ?? call.named.get('number');
  const references = referencesOf(reference);
  return runtime.engine.resolve(spec, references, context.numbering.get(call.menu));
}

async function findItems(runtime: DeviceRuntime, spec: MenuSpec, call: MenuCall): Promise<Item[]> {
  const found: Item[] = [];
  for (const item of runtime.engine.items(spec)) {
    const view = runtime.rows.itemView(spec, item);
    let matches = true;
    for (const [name, value] of call.named) {
      const own = view.get(name);
      if (own === undefined || toStr(own) !== argumentText(value)) {
        matches = false;
      }
    }

    if (matches && (call.where === undefined || (await call.where(view)))) {
      found.push(item);
    }
  }

  return found;
}

function getValue(runtime: DeviceRuntime, spec: MenuSpec, item: Item | undefined, name: string) {
  if (name === '.id' && item !== undefined) {
    return { type: 'id', value: item.id } as const;
  }

  const property = spec.propertyIndex.get(name);
  if (property === undefined || property.secret === true) {
    throw new DeviceTrap(`input does not match any value of value-name`, 1);
  }

  const values = runtime.engine.values(spec, item);
  const internal = runtime.engine.value(spec, values, name);
  return internal === undefined ? NOTHING : scriptValueOf(property, internal);
}

async function runListCommand(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  call: MenuCall,
  context: RunContext,
): Promise<ScriptValue> {
  const { engine } = runtime;
  switch (call.command) {
    case 'add':
      return {
        type: 'id',
        value: engine.add(spec, input(call, new Set()), context.numbering.get(call.menu)).id,
      };
    case 'set':
      engine.set(spec, targetItems(runtime, spec, call, context), input(call, NUMBER_ARGUMENTS));
      return NOTHING;
    case 'comment':
      engine.set(spec, targetItems(runtime, spec, call, context), [
        ['comment', argumentText(call.named.get('comment'))],
      ]);
      return NOTHING;
    case 'enable':
    case 'disable':
      engine.set(spec, targetItems(runtime, spec, call, context), [
        ['disabled', call.command === 'disable' ? 'yes' : 'no'],
      ]);
      return NOTHING;
    case 'remove':
      removeItems(runtime, spec, targetItems(runtime, spec, call, context));
      return NOTHING;
    case 'move': {
      const destination = call.positional[1] ?? call.named.get('destination');
      const [target] =
        destination === undefined
          ? []
          : engine.resolve(spec, referencesOf(destination), context.numbering.get(call.menu));
      engine.move(spec, targetItems(runtime, spec, call, context), target);
      return NOTHING;
    }

    case 'find':
      return newArray(
        (await findItems(runtime, spec, call)).map((item) => ({ type: 'id', value: item.id })),
      );
    case 'get': {
      const [item] = targetItems(runtime, spec, call, context);
      const name = call.positional[1] ?? call.named.get('value-name');
      return name === undefined
        ? runtime.rows.scriptRow(spec, item, undefined)
        : getValue(runtime, spec, item, toStr(name));
    }

    default:
      return runSpecialCommand(runtime, spec, call, context);
  }
}

/** Removes items; jobs stop and environment entries drop their global variable. */
export function removeItems(runtime: DeviceRuntime, spec: MenuSpec, items: readonly Item[]): void {
  if (spec.key === 'system/script/job') {
    for (const item of items) {
      runtime.stopJob(item.id);
    }

    return;
  }

  if (spec.key === 'system/script/environment') {
    for (const item of items) {
      runtime.globals.delete(item.values.name ?? '');
    }

    return;
  }

  runtime.engine.remove(spec, items);
}

async function runSpecialCommand(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  call: MenuCall,
  context: RunContext,
): Promise<ScriptValue> {
  if (spec.key === 'system/script' && call.command === 'run') {
    const [item] = targetItems(runtime, spec, call, context);
    if (item === undefined) {
      throw noSuchItem();
    }

    await runStoredScript(runtime, item, context.signal, 'script');
    return NOTHING;
  }

  if (spec.key === 'interface' && call.command === 'monitor-traffic') {
    const name = argumentText(call.positional[0] ?? call.named.get('interface'));
    await monitorTraffic(runtime, name, call.named.has('once'), context.signal, (row) => {
      context.write(row.map(([key, value]) => `${key.padStart(26)}: ${value}\r\n`).join(''));
      context.write('\r\n');
    });
    return NOTHING;
  }

  throw new DeviceTrap(`bad command name ${call.command}`, 0);
}

/** Runs a menu command from a script, as the console does. */
export async function runConsoleCommand(
  runtime: DeviceRuntime,
  call: MenuCall,
  context: RunContext,
): Promise<ScriptValue> {
  const node = call.menu as MenuNode;
  const spec = node.spec;
  if (call.command === 'export') {
    const terse = call.named.has('terse');
    const text = exportMenus(runtime, node, { terse, compact: !call.named.has('verbose') });
    const file = call.named.get('file');
    if (file !== undefined) {
      writeFile(runtime, `${toStr(file)}.rsc`, text);
      return NOTHING;
    }

    context.write(text);
    return NOTHING;
  }

  if (spec === undefined) {
    return runDirectoryCommand(runtime, node, call, context);
  }

  if (call.command === 'print') {
    return printConsole(runtime, spec, call, context);
  }

  if (spec.kind === 'singleton') {
    if (call.command === 'set') {
      runtime.engine.setSingleton(spec, input(call, new Set()));
      return NOTHING;
    }

    if (call.command === 'get') {
      const name = call.positional[0] ?? call.named.get('value-name');
      return name === undefined
        ? runtime.rows.scriptRow(spec, undefined, undefined)
        : getValue(runtime, spec, undefined, toStr(name));
    }
  }

  return runListCommand(runtime, spec, call, context);
}
