import { parseTime } from '../script/time.js';
import { formatId } from '../script/values.js';
import { matchesQuery } from './api-query.js';
import type { MenuNode } from './command-catalog.js';
import { removeItems } from './console-commands.js';
import { formatValue } from './format.js';
import type { PropertyInput } from './menu-engine.js';
import { noSuchItem } from './menu-engine.js';
import type { MenuSpec } from './menu-spec.js';
import type { DeviceRuntime } from './runtime.js';
import type { Item } from './state.js';
import { runStoredScript } from './stored-scripts.js';
import { followLogEntries, monitorTraffic, ping } from './streams.js';
import { type ApiCommand, type ApiCompletion, DeviceTrap, type ExecuteOptions } from './types.js';

type Attributes = ReadonlyMap<string, string>;

/** Attributes every command accepts besides its own arguments. */
const API_ATTRIBUTES = new Set(['.id', '.proplist']);

function missingCommand(name: string): DeviceTrap {
  return new DeviceTrap(`no such command or directory (${name})`, 0);
}

function resolvePath(runtime: DeviceRuntime, path: readonly string[]): MenuNode {
  let node: MenuNode = runtime.catalog.root;
  for (const segment of path) {
    const child = node.children.get(segment);
    if (child === undefined) {
      throw missingCommand(segment);
    }

    node = child;
  }

  return node;
}

function checkAttributes(node: MenuNode, name: string, attributes: Attributes): void {
  const signature = node.commands.get(name);
  if (signature === undefined) {
    throw missingCommand(name);
  }

  for (const attribute of attributes.keys()) {
    const known =
      API_ATTRIBUTES.has(attribute) ||
      signature.flags.has(attribute) ||
      signature.named === 'any' ||
      signature.named.has(attribute);
    if (!known) {
      throw new DeviceTrap('unknown parameter');
    }
  }
}

function propertyInput(attributes: Attributes, skip: readonly string[]): PropertyInput {
  return [...attributes].filter(([name]) => !API_ATTRIBUTES.has(name) && !skip.includes(name));
}

function targets(runtime: DeviceRuntime, spec: MenuSpec, attributes: Attributes): Item[] {
  const reference = attributes.get('.id') ?? attributes.get('numbers') ?? attributes.get('number');
  if (reference === undefined) {
    throw new DeviceTrap('missing value(s) of argument(s) numbers', 1);
  }

  return runtime.engine.resolve(
    spec,
    reference.split(',').filter((part) => part !== ''),
  );
}

/**
 * Runs one API command against a device: the API view of every menu, plus `/execute`,
 * `/ping`, `/system/reboot` and the commands that stream until cancelled.
 */
export async function executeApiCommand(
  runtime: DeviceRuntime,
  command: ApiCommand,
  options: ExecuteOptions,
): Promise<ApiCompletion> {
  const attributes: Attributes = new Map(command.attributes);
  if (command.path.length === 0 && command.command === 'execute') {
    return executeScript(runtime, attributes, options);
  }

  const node = resolvePath(runtime, command.path);
  checkAttributes(node, command.command, attributes);
  const spec = node.spec;
  if (spec === undefined) {
    return runDirectoryCommand(runtime, node, command.command, attributes, options);
  }

  if (command.command === 'print') {
    return print(runtime, spec, command.queries, attributes, options);
  }

  return runItemCommand(runtime, spec, command.command, attributes, options);
}

async function runItemCommand(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  name: string,
  attributes: Attributes,
  options: ExecuteOptions,
): Promise<ApiCompletion> {
  const { engine } = runtime;
  switch (name) {
    case 'add':
      return { ret: formatId(engine.add(spec, propertyInput(attributes, [])).id) };
    case 'set':
      if (spec.kind === 'singleton') {
        engine.setSingleton(spec, propertyInput(attributes, []));
      } else {
        engine.set(
          spec,
          targets(runtime, spec, attributes),
          propertyInput(attributes, ['numbers']),
        );
      }

      return {};
    case 'enable':
    case 'disable':
      engine.set(spec, targets(runtime, spec, attributes), [
        ['disabled', name === 'disable' ? 'yes' : 'no'],
      ]);
      return {};
    case 'comment':
      engine.set(spec, targets(runtime, spec, attributes), [
        ['comment', attributes.get('comment') ?? ''],
      ]);
      return {};
    case 'remove':
      removeItems(runtime, spec, targets(runtime, spec, attributes));
      return {};
    case 'move': {
      const destination = attributes.get('destination');
      const [target] = destination === undefined ? [] : engine.resolve(spec, [destination]);
      engine.move(spec, targets(runtime, spec, attributes), target);
      return {};
    }

    case 'get':
      return { ret: getValue(runtime, spec, attributes) };
    case 'find':
      return {
        ret: engine
          .items(spec)
          .map((item) => formatId(item.id))
          .join(';'),
      };
    default:
      return runSpecialCommand(runtime, spec, name, attributes, options);
  }
}

function getValue(runtime: DeviceRuntime, spec: MenuSpec, attributes: Attributes): string {
  const item = spec.kind === 'singleton' ? undefined : targets(runtime, spec, attributes)[0];
  const name = attributes.get('value-name') ?? '';
  const property = spec.propertyIndex.get(name);
  if (property === undefined || property.secret === true) {
    throw new DeviceTrap('input does not match any value of value-name', 1);
  }

  const internal = runtime.engine.value(spec, runtime.engine.values(spec, item), name);
  return internal === undefined ? '' : formatValue(runtime.version, property, internal, 'api');
}

async function runSpecialCommand(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  name: string,
  attributes: Attributes,
  options: ExecuteOptions,
): Promise<ApiCompletion> {
  if (spec.key === 'system/script' && name === 'run') {
    const [item] = targets(runtime, spec, attributes);
    if (item === undefined) {
      throw noSuchItem();
    }

    await runStoredScript(runtime, item, options.signal, 'api').catch((error: unknown) => {
      throw asScriptTrap(error, options.signal);
    });
    return {};
  }

  if (spec.key === 'interface' && name === 'monitor-traffic') {
    const target = attributes.get('interface') ?? '';
    await monitorTraffic(runtime, target, attributes.has('once'), options.signal, options.onRow);
    return {};
  }

  throw missingCommand(name);
}

/** A script failure as the API reports it: category 3, unless the command was interrupted. */
function asScriptTrap(error: unknown, signal: AbortSignal): unknown {
  if (!(error instanceof DeviceTrap)) {
    return error;
  }

  if (signal.aborted) {
    return new DeviceTrap('interrupted', 2);
  }

  return new DeviceTrap(error.message, 3);
}

async function print(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  queries: readonly string[],
  attributes: Attributes,
  options: ExecuteOptions,
): Promise<ApiCompletion> {
  const proplistText = attributes.get('.proplist');
  const proplist = proplistText === undefined ? undefined : new Set(proplistText.split(','));
  const items: Array<Item | undefined> =
    spec.kind === 'singleton' ? [undefined] : runtime.engine.items(spec);
  const propertyOf = (name: string) => spec.propertyIndex.get(name);
  const selected = items.filter((item) =>
    matchesQuery(queries, runtime.rows.apiRow(spec, item, undefined), propertyOf),
  );
  if (attributes.has('count-only')) {
    return { ret: String(selected.length) };
  }

  if (!attributes.has('follow-only')) {
    for (const item of selected) {
      options.onRow(runtime.rows.apiRow(spec, item, proplist));
    }
  }

  if (spec.key === 'log' && (attributes.has('follow') || attributes.has('follow-only'))) {
    await followLogEntries(runtime, options.signal, (item) => {
      const row = runtime.rows.apiRow(spec, item, undefined);
      if (matchesQuery(queries, row, propertyOf)) {
        options.onRow(runtime.rows.apiRow(spec, item, proplist));
      }
    });
  }

  return {};
}

async function runDirectoryCommand(
  runtime: DeviceRuntime,
  node: MenuNode,
  name: string,
  attributes: Attributes,
  options: ExecuteOptions,
): Promise<ApiCompletion> {
  const key = `${node.path.join('/')}/${name}`;
  if (key === 'system/reboot') {
    runtime.reboot();
    return {};
  }

  if (key === '/ping') {
    const countText = attributes.get('count');
    const count = countText === undefined ? undefined : Number(countText);
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
      throw new DeviceTrap('invalid value for argument count', 1);
    }

    const interval = parseTime(attributes.get('interval') ?? '1s');
    if (interval === undefined || interval <= 0) {
      throw new DeviceTrap('invalid value for argument interval', 1);
    }

    const address = attributes.get('address') ?? '';
    await ping(
      runtime,
      { address, count, intervalMs: interval * 1000 },
      options.signal,
      options.onRow,
    );
    return {};
  }

  throw missingCommand(name);
}

/**
 * `/execute`: with `as-string` (RouterOS 7) it runs the script and returns its output, or the
 * syntax error as output text; without it the script becomes a background job and the reply
 * carries the job id.
 */
async function executeScript(
  runtime: DeviceRuntime,
  attributes: Attributes,
  options: ExecuteOptions,
): Promise<ApiCompletion> {
  const allowed = runtime.version.major >= 7 ? ['script', 'file', 'as-string'] : ['script', 'file'];
  for (const name of attributes.keys()) {
    if (!allowed.includes(name) && name !== '.proplist') {
      throw new DeviceTrap('unknown parameter');
    }
  }

  const source = attributes.get('script');
  if (source === undefined) {
    throw new DeviceTrap('missing value(s) of argument(s) script', 1);
  }

  if (!attributes.has('as-string')) {
    const id = runtime.startJob(
      { source, block: undefined },
      { file: attributes.get('file'), origin: 'api', name: undefined },
    );
    return { ret: formatId(id) };
  }

  const outcome = await runtime.runSource(
    { source, block: undefined },
    { signal: options.signal, origin: 'api' },
  );
  const failure = outcome.run.failure;
  if (failure?.kind === 'syntax') {
    return { ret: failure.message };
  }

  if (failure !== undefined) {
    throw asScriptTrap(outcome.trap ?? new DeviceTrap(failure.message), options.signal);
  }

  // NOTE: whether RouterOS keeps the CRLF after the last printed line in `ret` is not
  // documented; the simulator returns the output exactly as printed.
  return { ret: outcome.run.output };
}
