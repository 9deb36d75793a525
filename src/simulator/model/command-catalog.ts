import {
  type CommandCatalog,
  type CommandSignature,
  type MenuHandle,
  signature,
} from '../script/catalog.js';
import { GLOBAL_SIGNATURES } from '../script/global-commands.js';
import type { MenuSpec } from './menu-spec.js';
import { DIRECTORY_COMMANDS, EXPORT_SIGNATURE, menusFor } from './menus/index.js';
import type { RouterOsVersion } from './types.js';

/** A node of the command tree: a menu with items, or a directory such as `/ip`. */
export type MenuNode = MenuHandle & {
  readonly spec: MenuSpec | undefined;
  readonly parent: MenuNode | undefined;
  readonly children: Map<string, MenuNode>;
  readonly commands: Map<string, CommandSignature>;
};

const PRINT_FLAGS = [
  'detail',
  'terse',
  'count-only',
  'as-value',
  'without-paging',
  'brief',
  'value-list',
];

const NUMBERS = signature({ positional: ['numbers'], named: ['numbers'] });

function settable(spec: MenuSpec): string[] {
  return spec.properties.filter((property) => property.readOnly !== true).map((p) => p.name);
}

/** The commands of a menu with items, from what the menu allows. */
export function menuCommands(spec: MenuSpec): Map<string, CommandSignature> {
  const commands = new Map<string, CommandSignature>();
  const names = spec.properties.map((property) => property.name);
  const print = signature({
    flags: [...PRINT_FLAGS, ...spec.printFlags],
    named: ['proplist', 'from', 'file', 'interval'],
    where: true,
  });
  commands.set('print', print);
  commands.set('export', EXPORT_SIGNATURE);
  if (spec.kind === 'singleton') {
    commands.set('get', signature({ positional: ['value-name'], named: ['value-name'] }));
    if (spec.canSet) {
      commands.set('set', signature({ named: settable(spec) }));
    }

    return commands;
  }

  commands.set('find', signature({ named: names, where: true }));
  commands.set(
    'get',
    signature({ positional: ['number', 'value-name'], named: ['number', 'value-name'] }),
  );
  addListCommands(spec, commands);
  for (const [name, extra] of spec.extraCommands) {
    commands.set(name, extra);
  }

  return commands;
}

function addListCommands(spec: MenuSpec, commands: Map<string, CommandSignature>): void {
  if (spec.canAdd) {
    const extra = spec.ordered ? ['copy-from', 'place-before'] : ['copy-from'];
    commands.set('add', signature({ named: [...settable(spec), ...extra] }));
  }

  if (spec.canSet) {
    commands.set(
      'set',
      signature({ positional: ['numbers'], named: ['numbers', ...settable(spec)] }),
    );
    if (spec.propertyIndex.has('comment')) {
      commands.set(
        'comment',
        signature({ positional: ['numbers'], named: ['numbers', 'comment'] }),
      );
    }

    if (spec.propertyIndex.has('disabled')) {
      commands.set('enable', NUMBERS);
      commands.set('disable', NUMBERS);
    }
  }

  if (spec.canRemove) {
    commands.set('remove', NUMBERS);
  }

  if (spec.ordered) {
    commands.set(
      'move',
      signature({ positional: ['numbers', 'destination'], named: ['numbers', 'destination'] }),
    );
  }
}

function directory(path: readonly string[], parent: MenuNode | undefined): MenuNode {
  const key = path.join('/');
  const commands = new Map(DIRECTORY_COMMANDS.get(key) ?? []);
  commands.set('export', EXPORT_SIGNATURE);
  return { path, spec: undefined, parent, children: new Map(), commands };
}

/** The command tree of one major version; shared by every device of that version. */
export class DeviceCatalog implements CommandCatalog {
  readonly root: MenuNode;

  readonly slashPaths: boolean;

  /** Nodes by `ip/firewall/filter` key. */
  private readonly nodes = new Map<string, MenuNode>();

  constructor(version: RouterOsVersion) {
    this.slashPaths = version.major >= 7;
    this.root = directory([], undefined);
    this.nodes.set('', this.root);
    for (const spec of menusFor(version)) {
      this.insert(spec);
    }
  }

  private insert(spec: MenuSpec): void {
    let node = this.root;
    for (let depth = 1; depth <= spec.path.length; depth += 1) {
      const path = spec.path.slice(0, depth);
      const name = path[path.length - 1] ?? '';
      let child = node.children.get(name);
      if (child === undefined) {
        child = directory(path, node);
        node.children.set(name, child);
        this.nodes.set(path.join('/'), child);
      }

      node = child;
    }

    const menu: MenuNode = {
      ...node,
      spec,
      commands: new Map([...node.commands, ...menuCommands(spec)]),
    };
    node.parent?.children.set(spec.path[spec.path.length - 1] ?? '', menu);
    for (const child of node.children.values()) {
      (child as { parent: MenuNode | undefined }).parent = menu;
    }

    this.nodes.set(spec.key, menu);
  }

  node(key: string): MenuNode | undefined {
    return this.nodes.get(key);
  }

  /** Every menu with items, in tree order, for `/export`. */
  specs(): MenuSpec[] {
    const result: MenuSpec[] = [];
    const visit = (node: MenuNode): void => {
      if (node.spec !== undefined) {
        result.push(node.spec);
      }

      for (const child of node.children.values()) {
        visit(child);
      }
    };
    visit(this.root);
    return result;
  }

  child(menu: MenuHandle, name: string): MenuHandle | undefined {
    return (menu as MenuNode).children.get(name);
  }

  parent(menu: MenuHandle): MenuHandle {
    return (menu as MenuNode).parent ?? this.root;
  }

  command(menu: MenuHandle, name: string): CommandSignature | undefined {
    return (menu as MenuNode).commands.get(name);
  }

  global(name: string): CommandSignature | undefined {
    return GLOBAL_SIGNATURES.get(name);
  }
}

const catalogs = new Map<number, DeviceCatalog>();

/** The shared catalog for a version's major number. */
export function catalogFor(version: RouterOsVersion): DeviceCatalog {
  let catalog = catalogs.get(version.major);
  if (catalog === undefined) {
    catalog = new DeviceCatalog(version);
    catalogs.set(version.major, catalog);
  }

  return catalog;
}
