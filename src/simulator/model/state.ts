import type { MenuSpec, SeedContext, SeedValues } from './menu-spec.js';

/** One item of a list menu. `values` holds only what was set; defaults come from the spec. */
export type Item = { readonly id: number; values: SeedValues };

/** Items of a list menu in display order; `nextId` is one above every id handed out. */
export type ListState = { items: Item[]; nextId: number };

/**
 * The configuration of one device. Menus are seeded on first use, so an idle device holds
 * only the menus something has read or changed.
 */
export class DeviceState {
  private readonly lists = new Map<string, ListState>();

  private readonly singletons = new Map<string, SeedValues>();

  private readonly seedContext: SeedContext;

  constructor(seedContext: SeedContext) {
    this.seedContext = seedContext;
  }

  /** The item list of a list menu, or of the menu a view reads from. */
  list(spec: MenuSpec, resolveBase: (key: string) => MenuSpec): ListState {
    const owner = spec.view === undefined ? spec : resolveBase(spec.view.base);
    let state = this.lists.get(owner.key);
    if (state === undefined) {
      const seeded = owner.seed?.(this.seedContext) ?? [];
      state = {
        items: seeded.map((values, index) => ({ id: index + 1, values })),
        nextId: seeded.length + 1,
      };
      this.lists.set(owner.key, state);
    }

    return state;
  }

  singleton(spec: MenuSpec): SeedValues {
    let values = this.singletons.get(spec.key);
    if (values === undefined) {
      values = spec.seed?.(this.seedContext)[0] ?? {};
      this.singletons.set(spec.key, values);
    }

    return values;
  }

  setSingleton(spec: MenuSpec, values: SeedValues): void {
    this.singletons.set(spec.key, values);
  }

  /** Keys of the menus materialised so far, for tests of lazy seeding. */
  materialisedMenus(): string[] {
    return [...this.lists.keys(), ...this.singletons.keys()];
  }
}
