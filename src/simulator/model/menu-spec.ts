import type { CommandSignature } from '../script/catalog.js';
import type { BoardProfile } from './profiles.js';
import type { PropertySpec } from './schema.js';
import type { RouterOsVersion } from './types.js';

/** What seeding a menu may look at. */
export type SeedContext = {
  readonly version: RouterOsVersion;
  readonly profile: BoardProfile;
  readonly identity: string;
};

/** Values an item or singleton starts with, in internal form. */
export type SeedValues = Readonly<Record<string, string>>;

/** A flag letter printed before items, such as `X` for disabled. */
export type FlagSpec = {
  readonly letter: string;
  readonly property: string;
  /** Word in the `Flags:` legend: `disabled`, `dynamic`. */
  readonly label: string;
};

/** Values the device computes for an item when it is read (`network`, `uptime`). */
export type ComputeValues = (values: SeedValues, device: ComputeContext) => SeedValues;

/** Device state a computed value may depend on. */
export type ComputeContext = {
  readonly version: RouterOsVersion;
  readonly profile: BoardProfile;
  /** Seconds since boot. */
  readonly uptimeSeconds: number;
  /** Milliseconds since the epoch on the device clock. */
  readonly nowMs: number;
  readonly bootMs: number;
  readonly scriptJobCount: number;
};

/**
 * One menu of the configuration tree. Specs are immutable and shared by every device of the
 * same major version; per-device state lives elsewhere.
 */
export type MenuSpec = {
  readonly path: readonly string[];
  /** `ip/firewall/filter`. */
  readonly key: string;
  readonly kind: 'list' | 'singleton';
  readonly properties: readonly PropertySpec[];
  readonly propertyIndex: ReadonlyMap<string, PropertySpec>;
  /** Properties shown as table columns by a plain `print`. */
  readonly columns: readonly string[];
  /** `table` prints columns; `detail` prints every set property, as firewall menus do. */
  readonly printStyle: 'table' | 'detail';
  readonly flags: readonly FlagSpec[];
  readonly canAdd: boolean;
  readonly canRemove: boolean;
  /** `set` works; false for state such as `/system resource`. */
  readonly canSet: boolean;
  /** Item order matters (firewall rules): `add place-before=` and `move` work. */
  readonly ordered: boolean;
  /** Property an item may be addressed by instead of its id: `set ether1 ...`. */
  readonly nameProperty: string | undefined;
  /** Properties whose values together must be unique, and the failure message. */
  readonly uniqueTogether:
    | { readonly properties: readonly string[]; readonly message: string }
    | undefined;
  /** Menu-specific commands beyond add, set, remove, print and the like. */
  readonly extraCommands: ReadonlyMap<string, CommandSignature>;
  /** Flags `print` accepts beyond the common ones (`follow` for `/log`). */
  readonly printFlags: readonly string[];
  /** Whether `/export` includes the menu. */
  readonly exported: boolean;
  /** Items live in another menu, selected by `match`; `add` sets `match` on new items. */
  readonly view: { readonly base: string; readonly match: SeedValues } | undefined;
  readonly seed: ((context: SeedContext) => readonly SeedValues[]) | undefined;
  readonly compute: ComputeValues | undefined;
  /** Adjusts stored values after `add` or `set`, such as a file's size from its contents. */
  readonly onWrite:
    | ((values: SeedValues, device: ComputeContext, added: boolean) => SeedValues)
    | undefined;
};

export type MenuDefinition = {
  path: string;
  kind?: 'list' | 'singleton';
  properties: readonly PropertySpec[];
  columns?: readonly string[];
  printStyle?: 'table' | 'detail';
  flags?: readonly FlagSpec[];
  canAdd?: boolean;
  canRemove?: boolean;
  canSet?: boolean;
  ordered?: boolean;
  nameProperty?: string;
  uniqueTogether?: { properties: readonly string[]; message: string };
  extraCommands?: ReadonlyArray<readonly [string, CommandSignature]>;
  printFlags?: readonly string[];
  exported?: boolean;
  view?: { base: string; match: SeedValues };
  seed?: (context: SeedContext) => readonly SeedValues[];
  compute?: ComputeValues;
  onWrite?: (values: SeedValues, device: ComputeContext, added: boolean) => SeedValues;
};

export const DISABLED_FLAG: FlagSpec = { letter: 'X', property: 'disabled', label: 'disabled' };
export const DYNAMIC_FLAG: FlagSpec = { letter: 'D', property: 'dynamic', label: 'dynamic' };
export const INVALID_FLAG: FlagSpec = { letter: 'I', property: 'invalid', label: 'invalid' };
export const RUNNING_FLAG: FlagSpec = { letter: 'R', property: 'running', label: 'running' };

/** Builds a menu spec; lists default to add, set and remove, singletons to set only. */
export function defineMenu(definition: MenuDefinition): MenuSpec {
  const kind = definition.kind ?? 'list';
  const isList = kind === 'list';
  return {
    path: definition.path.split('/'),
    key: definition.path,
    kind,
    properties: definition.properties,
    propertyIndex: new Map(definition.properties.map((property) => [property.name, property])),
    columns: definition.columns ?? [],
    printStyle: definition.printStyle ?? (definition.columns === undefined ? 'detail' : 'table'),
    flags: definition.flags ?? [],
    canAdd: definition.canAdd ?? isList,
    canRemove: definition.canRemove ?? isList,
    canSet: definition.canSet ?? true,
    ordered: definition.ordered ?? false,
    nameProperty: definition.nameProperty,
    uniqueTogether: definition.uniqueTogether,
    extraCommands: new Map(definition.extraCommands ?? []),
    printFlags: definition.printFlags ?? [],
    exported: definition.exported ?? true,
    view: definition.view,
    seed: definition.seed,
    compute: definition.compute,
    onWrite: definition.onWrite,
  };
}

/** Properties every list item has: `comment` and `disabled`. */
export const COMMENT: PropertySpec = { name: 'comment', type: { kind: 'string' } };
export const DISABLED: PropertySpec = {
  name: 'disabled',
  type: { kind: 'bool' },
  default: 'false',
  detailOnly: true,
};
