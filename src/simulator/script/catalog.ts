/**
 * What the parser needs to know about a device's commands. RouterOS resolves menu paths,
 * command names and argument names when it parses a script, before anything runs, so a typo
 * anywhere stops the whole script with `bad command name` or `expected end of command`.
 */

/** A menu as the catalog identifies it; the device model gives it meaning. */
export type MenuHandle = { readonly path: readonly string[] };

export type CommandSignature = {
  /** Names accepted as `name=value`, or `any` for commands that take arbitrary names. */
  readonly named: ReadonlySet<string> | 'any';
  /** Words accepted alone, without a value: `detail`, `as-value`, `once`. */
  readonly flags: ReadonlySet<string>;
  /** Names of the unnamed arguments in order; more unnamed arguments are an error. */
  readonly positional: readonly string[];
  /** Whether `where <expression>` may follow. */
  readonly where: boolean;
  /** Argument names (named or unnamed) whose `{ ... }` value is code rather than an array. */
  readonly code: ReadonlySet<string>;
};

export interface CommandCatalog {
  readonly root: MenuHandle;
  /** RouterOS 7 accepts `/ip/address/print`; RouterOS 6 only space-separated paths. */
  readonly slashPaths: boolean;
  child(menu: MenuHandle, name: string): MenuHandle | undefined;
  parent(menu: MenuHandle): MenuHandle;
  command(menu: MenuHandle, name: string): CommandSignature | undefined;
  /** The `:put`, `:local`, ... commands, which work from every menu. */
  global(name: string): CommandSignature | undefined;
}

const NONE: ReadonlySet<string> = new Set();

/** Builds a signature from short lists; the defaults accept nothing. */
export function signature(parts: {
  named?: readonly string[] | 'any';
  flags?: readonly string[];
  positional?: readonly string[];
  where?: boolean;
  code?: readonly string[];
}): CommandSignature {
  return {
    named: parts.named === 'any' ? 'any' : new Set(parts.named ?? []),
    flags: parts.flags === undefined ? NONE : new Set(parts.flags),
    positional: parts.positional ?? [],
    where: parts.where ?? false,
    code: parts.code === undefined ? NONE : new Set(parts.code),
  };
}
