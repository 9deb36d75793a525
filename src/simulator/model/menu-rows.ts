import type { ItemView } from '../script/host.js';
import { formatId, keyedArray, type ScriptValue } from '../script/values.js';
import { formatValue, scriptValueOf } from './format.js';
import type { MenuEngine } from './menu-engine.js';
import type { MenuSpec, SeedValues } from './menu-spec.js';
import type { PrintRow } from './print-format.js';
import type { PropertySpec } from './schema.js';
import type { Item } from './state.js';
import type { ApiRow, RouterOsVersion } from './types.js';

/**
 * Which properties a view shows: `api` every value, `detail` every value except flags and the
 * comment, `plain` only values that were set (firewall rules in a plain `print`).
 */
export type RowMode = 'api' | 'detail' | 'plain';

/** Reads items of one menu into console rows, API rows and script values. */
export class RowReader {
  private readonly engine: MenuEngine;

  private readonly version: RouterOsVersion;

  constructor(engine: MenuEngine, version: RouterOsVersion) {
    this.engine = engine;
    this.version = version;
  }

  /** Properties with a value, in the menu's order, with their internal values. */
  entries(spec: MenuSpec, values: SeedValues, mode: RowMode): Array<[PropertySpec, string]> {
    const flagProperties = new Set(spec.flags.map((flag) => flag.property));
    const result: Array<[PropertySpec, string]> = [];
    for (const property of spec.properties) {
      if (property.secret === true) {
        continue;
      }

      if (mode !== 'api' && (flagProperties.has(property.name) || property.name === 'comment')) {
        continue;
      }

      const stored = values[property.name];
      const value =
        mode === 'plain' && property.required !== true && property.name !== 'action'
          ? stored
          : (stored ?? property.default);
      if (value !== undefined) {
        result.push([property, value]);
      }
    }

    return result;
  }

  flags(spec: MenuSpec, values: SeedValues): string {
    return spec.flags
      .filter((flag) => this.engine.value(spec, values, flag.property) === 'true')
      .map((flag) => flag.letter)
      .join('');
  }

  consoleRow(spec: MenuSpec, item: Item | undefined, mode: 'detail' | 'plain'): PrintRow {
    const values = this.engine.values(spec, item);
    return {
      flags: this.flags(spec, values),
      comment: values.comment,
      values: this.entries(spec, values, mode).map(([property, internal]) => [
        property.name,
        formatValue(this.version, property, internal, 'console'),
      ]),
    };
  }

  /** An item as the API sends it: `.id` first, then properties, limited to `proplist`. */
  apiRow(
    spec: MenuSpec,
    item: Item | undefined,
    proplist: ReadonlySet<string> | undefined,
  ): ApiRow {
    const values = this.engine.values(spec, item);
    const row: Array<readonly [string, string]> = [];
    if (item !== undefined && (proplist === undefined || proplist.has('.id'))) {
      row.push(['.id', formatId(item.id)]);
    }

    for (const [property, internal] of this.entries(spec, values, 'api')) {
      if (proplist === undefined || proplist.has(property.name)) {
        row.push([property.name, formatValue(this.version, property, internal, 'api')]);
      }
    }

    return row;
  }

  /** An item as `print as-value` gives it to scripts: `.id` and typed values. */
  scriptRow(spec: MenuSpec, item: Item | undefined, proplist: ReadonlySet<string> | undefined) {
    const values = this.engine.values(spec, item);
    const entries: Array<[string, ScriptValue]> = [];
    if (item !== undefined) {
      entries.push(['.id', { type: 'id', value: item.id }]);
    }

    for (const [property, internal] of this.entries(spec, values, 'api')) {
      if (proplist === undefined || proplist.has(property.name)) {
        entries.push([property.name, scriptValueOf(property, internal)]);
      }
    }

    return keyedArray(entries);
  }

  /** Property access for `where` conditions. */
  itemView(spec: MenuSpec, item: Item | undefined): ItemView {
    const values = this.engine.values(spec, item);
    return {
      get: (name) => {
        if (name === '.id' && item !== undefined) {
          return { type: 'id', value: item.id };
        }

        const property = spec.propertyIndex.get(name);
        const internal = this.engine.value(spec, values, name);
        return internal === undefined ? undefined : scriptValueOf(property, internal);
      },
      isProperty: (name) => name === '.id' || spec.propertyIndex.has(name),
    };
  }
}
