import type { MenuCall, RunContext } from '../script/host.js';
import { NOTHING, newArray, num, type ScriptValue, toStr } from '../script/values.js';
import { formatValue } from './format.js';
import type { MenuSpec } from './menu-spec.js';
import { printDetail, printSingleton, printTable, printTerse } from './print-format.js';
import type { DeviceRuntime } from './runtime.js';
import type { Item } from './state.js';
import { followLogEntries } from './streams.js';

function proplistOf(call: MenuCall): ReadonlySet<string> | undefined {
  const value = call.named.get('proplist');
  return value === undefined ? undefined : new Set(toStr(value).split(','));
}

async function selectItems(runtime: DeviceRuntime, spec: MenuSpec, call: MenuCall) {
  const items = runtime.engine.items(spec);
  if (call.where === undefined) {
    return items;
  }

  const selected: Item[] = [];
  for (const item of items) {
    if (await call.where(runtime.rows.itemView(spec, item))) {
      selected.push(item);
    }
  }

  return selected;
}

function logLine(runtime: DeviceRuntime, spec: MenuSpec, item: Item): string {
  const values = runtime.engine.values(spec, item);
  return `${values.time ?? ''} ${values.topics ?? ''} ${values.message ?? ''}\r\n`;
}

function printSingletonMenu(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  call: MenuCall,
  context: RunContext,
) {
  if (call.named.has('as-value')) {
    return runtime.rows.scriptRow(spec, undefined, proplistOf(call));
  }

  const values = runtime.engine.values(spec, undefined);
  const lines = runtime.rows
    .entries(spec, values, 'api')
    .map(
      ([property, internal]) =>
        [property.name, formatValue(runtime.version, property, internal, 'console')] as const,
    );
  context.write(printSingleton(lines));
  return NOTHING;
}

/**
 * Runs `print` from a script: a table, `detail` or `terse` text, `count-only`, or with
 * `as-value` an array of items. Printing sets the numbers that `set 0` and the like refer to.
 */
export async function printConsole(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  call: MenuCall,
  context: RunContext,
): Promise<ScriptValue> {
  if (spec.kind === 'singleton') {
    return printSingletonMenu(runtime, spec, call, context);
  }

  const items = await selectItems(runtime, spec, call);
  if (call.named.has('as-value')) {
    const proplist = proplistOf(call);
    return newArray(items.map((item) => runtime.rows.scriptRow(spec, item, proplist)));
  }

  if (call.named.has('count-only')) {
    if (call.valueWanted) {
      return num(items.length);
    }

    context.write(`${items.length}\r\n`);
    return NOTHING;
  }

  context.numbering.set(
    call.menu,
    items.map((item) => item.id),
  );
  if (spec.key === 'log') {
    return printLog(runtime, spec, call, context, items);
  }

  context.write(formatItems(runtime, spec, call, items));
  return NOTHING;
}

function formatItems(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  call: MenuCall,
  items: Item[],
): string {
  const { version, rows } = runtime;
  if (call.named.has('terse')) {
    return printTerse(
      spec,
      items.map((item) => rows.consoleRow(spec, item, 'detail')),
    );
  }

  if (call.named.has('detail')) {
    return printDetail(
      version,
      spec,
      items.map((item) => rows.consoleRow(spec, item, 'detail')),
    );
  }

  if (spec.printStyle === 'detail') {
    return printDetail(
      version,
      spec,
      items.map((item) => rows.consoleRow(spec, item, 'plain')),
    );
  }

  return printTable(
    version,
    spec,
    items.map((item) => rows.consoleRow(spec, item, 'detail')),
  );
}

async function printLog(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  call: MenuCall,
  context: RunContext,
  items: Item[],
): Promise<ScriptValue> {
  const follow = call.named.has('follow') || call.named.has('follow-only');
  if (!call.named.has('follow-only')) {
    for (const item of items) {
      context.write(logLine(runtime, spec, item));
    }
  }

  if (follow) {
    await followLogEntries(runtime, context.signal, (item) =>
      context.write(logLine(runtime, spec, item)),
    );
  }

  return NOTHING;
}
