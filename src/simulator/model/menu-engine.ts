import type { DeviceCatalog } from './command-catalog.js';
import type { ComputeContext, MenuSpec, SeedValues } from './menu-spec.js';
import { normalizeValue } from './schema.js';
import type { DeviceState, Item, ListState } from './state.js';
import { DeviceTrap } from './types.js';

/** Arguments of `add` and `set` as name and text, in the order given. */
export type PropertyInput = ReadonlyArray<readonly [name: string, value: string]>;

/** Arguments `add` takes that are not properties of the item. */
const ADD_ARGUMENTS = new Set(['copy-from', 'place-before']);

export function noSuchItem(): DeviceTrap {
  return new DeviceTrap('no such item', 0);
}

/**
 * Generic menu semantics over a device's state: addressing items, validating values, `add`,
 * `set`, `remove`, `move`. The script interpreter and the API view both go through it, so both
 * accept and reject exactly the same input.
 */
export class MenuEngine {
  private readonly catalog: DeviceCatalog;

  private readonly state: DeviceState;

  private readonly computeContext: () => ComputeContext;

  /** Lists the device builds from other state when read, by menu key. */
  private readonly derivedLists: ReadonlyMap<string, () => Item[]>;

  /** Called after `add`, `set`, `remove` or `move` changed a list menu. */
  private readonly onChange: (spec: MenuSpec) => void;

  constructor(
    catalog: DeviceCatalog,
    state: DeviceState,
    computeContext: () => ComputeContext,
    derivedLists: ReadonlyMap<string, () => Item[]> = new Map(),
    onChange: (spec: MenuSpec) => void = () => undefined,
  ) {
    this.catalog = catalog;
    this.state = state;
    this.computeContext = computeContext;
    this.derivedLists = derivedLists;
    this.onChange = onChange;
  }

  spec(key: string): MenuSpec {
    const spec = this.catalog.node(key)?.spec;
    if (spec === undefined) {
      throw new Error(`menu ${key} is not defined`);
    }

    return spec;
  }

  private list(spec: MenuSpec): ListState {
    return this.state.list(spec, (key) => this.spec(key));
  }

  /** Items of a list menu in order; a view sees only the items that match it. */
  items(spec: MenuSpec): Item[] {
    const derived = this.derivedLists.get(spec.key);
    if (derived !== undefined) {
      return derived();
    }

    const { items } = this.list(spec);
    const match = spec.view?.match;
    if (match === undefined) {
      return items;
    }

    return items.filter((item) =>
      Object.entries(match).every(([name, value]) => item.values[name] === value),
    );
  }

  /** Stored and computed values of an item, or of a singleton when `item` is undefined. */
  values(spec: MenuSpec, item: Item | undefined): SeedValues {
    const stored = item === undefined ? this.state.singleton(spec) : item.values;
    return spec.compute === undefined ? stored : spec.compute(stored, this.computeContext());
  }

  /** A property's value: what was set, else the spec's default, else undefined. */
  value(spec: MenuSpec, values: SeedValues, name: string): string | undefined {
    return values[name] ?? spec.propertyIndex.get(name)?.default;
  }

  /** Names of the items of a menu, for properties that refer to them. */
  names(menuKey: string): string[] {
    const spec = this.spec(menuKey);
    const property = spec.nameProperty ?? 'name';
    return this.items(spec).flatMap((item) => {
      const name = item.values[property];
      return name === undefined ? [] : [name];
    });
  }

  /**
   * Finds items by id (`*1A`), by number from the last print (`0`), or by name. Throws
   * `no such item` when any reference matches nothing.
   */
  resolve(spec: MenuSpec, references: readonly string[], numbering?: readonly number[]): Item[] {
    const items = this.items(spec);
    return references.map((reference) => {
      const found = this.resolveOne(spec, items, reference, numbering);
      if (found === undefined) {
        throw noSuchItem();
      }

      return found;
    });
  }

  private resolveOne(
    spec: MenuSpec,
    items: Item[],
    reference: string,
    numbering: readonly number[] | undefined,
  ): Item | undefined {
    if (/^\*[0-9A-Fa-f]+$/.test(reference)) {
      const id = Number.parseInt(reference.slice(1), 16);
      return items.find((item) => item.id === id);
    }

    if (/^[0-9]+$/.test(reference)) {
      const index = Number(reference);
      const id = numbering === undefined ? items[index]?.id : numbering[index];
      return items.find((item) => item.id === id);
    }

    const property = spec.nameProperty;
    return property === undefined
      ? undefined
      : items.find((item) => item.values[property] === reference);
  }

  /** Validates input against the menu's properties and returns internal values. */
  private normalize(
    spec: MenuSpec,
    input: PropertyInput,
    extra: ReadonlySet<string>,
  ): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, text] of input) {
      if (extra.has(name)) {
        continue;
      }

      const property = spec.propertyIndex.get(name);
      if (property === undefined || property.readOnly === true) {
        throw new DeviceTrap('unknown parameter');
      }

      result[name] = normalizeValue(property, text, (menu) => this.names(menu));
    }

    return result;
  }

  private checkUnique(spec: MenuSpec, values: SeedValues, self: Item | undefined): void {
    const others = this.list(spec).items.filter((item) => item !== self);
    for (const property of spec.properties) {
      const value = values[property.name];
      if (property.unique === true && value !== undefined) {
        if (others.some((item) => item.values[property.name] === value)) {
          throw new DeviceTrap('failure: already have such name');
        }
      }
    }

    const together = spec.uniqueTogether;
    if (together !== undefined) {
      const same = (item: Item) =>
        together.properties.every((name) => item.values[name] === values[name]);
      if (others.some(same)) {
        throw new DeviceTrap(together.message);
      }
    }
  }

  /** Adds an item and returns it; `place-before` puts it before an existing item. */
  add(spec: MenuSpec, input: PropertyInput, numbering?: readonly number[]): Item {
    if (!spec.canAdd) {
      throw new DeviceTrap('no such command', 0);
    }

    const given = this.normalize(spec, input, ADD_ARGUMENTS);
    const copyFrom = input.find(([name]) => name === 'copy-from')?.[1];
    const template =
      copyFrom === undefined ? {} : this.resolve(spec, [copyFrom], numbering)[0]?.values;
    let values: SeedValues = { ...template, ...spec.view?.match, ...given };
    const missing = spec.properties
      .filter((property) => property.required === true && values[property.name] === undefined)
      .map((property) => property.name);
    if (missing.length > 0) {
      throw new DeviceTrap(`missing value(s) of argument(s) ${missing.join(', ')}`, 1);
    }

    values = spec.onWrite?.(values, this.computeContext(), true) ?? values;
    this.checkUnique(spec, values, undefined);
    const list = this.list(spec);
    const item: Item = { id: list.nextId, values };
    list.nextId += 1;
    const before = input.find(([name]) => name === 'place-before')?.[1];
    const position =
      before === undefined
        ? -1
        : list.items.indexOf(this.resolve(spec, [before], numbering)[0] as Item);
    if (position < 0) {
      list.items.push(item);
    } else {
      list.items.splice(position, 0, item);
    }

    this.onChange(spec);
    return item;
  }

  /** Sets properties of items; an empty value on an optional property unsets it. */
  set(spec: MenuSpec, items: readonly Item[], input: PropertyInput): void {
    if (!spec.canSet) {
      throw new DeviceTrap('no such command', 0);
    }

    const given = this.normalize(spec, input, new Set(['numbers', '.id']));
    for (const item of items) {
      let values: SeedValues = { ...item.values, ...given };
      values = spec.onWrite?.(values, this.computeContext(), false) ?? values;
      this.checkUnique(spec, values, item);
      item.values = values;
    }

    this.onChange(spec);
  }

  setSingleton(spec: MenuSpec, input: PropertyInput): void {
    if (!spec.canSet) {
      throw new DeviceTrap('no such command', 0);
    }

    const given = this.normalize(spec, input, new Set());
    this.state.setSingleton(spec, { ...this.state.singleton(spec), ...given });
  }

  remove(spec: MenuSpec, items: readonly Item[]): void {
    if (!spec.canRemove) {
      throw new DeviceTrap('no such command', 0);
    }

    const list = this.list(spec);
    list.items = list.items.filter((item) => !items.includes(item));
    this.onChange(spec);
  }

  /** Moves items before `destination`, or to the end when it is undefined. */
  move(spec: MenuSpec, items: readonly Item[], destination: Item | undefined): void {
    const list = this.list(spec);
    const rest = list.items.filter((item) => !items.includes(item));
    const index = destination === undefined ? rest.length : rest.indexOf(destination);
    rest.splice(index < 0 ? rest.length : index, 0, ...items);
    list.items = rest;
    this.onChange(spec);
  }

  /** Adds an item without validation, for state the device itself creates (jobs, log). */
  insertInternal(spec: MenuSpec, values: SeedValues): Item {
    const list = this.list(spec);
    const item: Item = { id: list.nextId, values };
    list.nextId += 1;
    list.items.push(item);
    return item;
  }

  /** Removes items the device itself owns, such as finished jobs. */
  removeInternal(spec: MenuSpec, keep: (item: Item) => boolean): void {
    const list = this.list(spec);
    list.items = list.items.filter(keep);
  }
}
