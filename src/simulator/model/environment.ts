import { type ScriptValue, toStr } from '../script/values.js';
import type { Item } from './state.js';

/**
 * `/system script environment`: one item per global variable. An id is handed out when a
 * variable is first listed and kept while it exists, so removing one variable by id leaves
 * the ids of the others valid.
 */
export class ScriptEnvironment {
  private readonly globals: ReadonlyMap<string, ScriptValue>;

  /** Ids of the variables listed so far; a removed variable's entry goes at the next listing. */
  private readonly ids = new Map<string, number>();

  /** One above every id handed out since the last reset. */
  private nextId = 1;

  constructor(globals: ReadonlyMap<string, ScriptValue>) {
    this.globals = globals;
  }

  /** Items in the order the variables were created. */
  items(): Item[] {
    for (const name of this.ids.keys()) {
      if (!this.globals.has(name)) {
        this.ids.delete(name);
      }
    }

    return [...this.globals].map(([name, value]) => ({
      id: this.idOf(name),
      values: { name, user: 'admin', value: toStr(value) },
    }));
  }

  /** Forgets every id, as a reboot does. */
  reset(): void {
    this.ids.clear();
    this.nextId = 1;
  }

  private idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.nextId;
      this.nextId += 1;
      this.ids.set(name, id);
    }

    return id;
  }
}
