import type { Origin } from '../model/types.js';
import type { Block } from './ast.js';
import type { CommandCatalog, MenuHandle } from './catalog.js';
import type { ScriptValue } from './values.js';

/** Read access to one menu item while a `where` condition is tested. */
export type ItemView = {
  /** The property's value typed as scripts see it, or undefined when the item has none. */
  get(name: string): ScriptValue | undefined;
  /** Whether `name` is a property of the menu, set or not. */
  isProperty(name: string): boolean;
};

/** A menu command with its arguments evaluated. */
export type MenuCall = {
  readonly menu: MenuHandle;
  readonly command: string;
  readonly positional: readonly ScriptValue[];
  /** Named arguments in order; flags such as `detail` have the value undefined. */
  readonly named: ReadonlyMap<string, ScriptValue | undefined>;
  readonly where: ((item: ItemView) => Promise<boolean>) | undefined;
  /**
   * True inside `[ ]`, where the command's value is used: `print count-only` then returns the
   * count instead of printing it.
   */
  readonly valueWanted: boolean;
};

/** State of one script run that menu commands share. */
export type RunContext = {
  readonly signal: AbortSignal;
  readonly origin: Origin;
  /** Appends printed text; `:put` adds CRLF itself. */
  write(text: string): void;
  /**
   * Item ids listed by the last `print` of each menu in this run, so `set 0` addresses the
   * first item printed. Keyed by the menu handle object.
   */
  readonly numbering: Map<MenuHandle, readonly number[]>;
};

/** What the interpreter needs from the device it runs on. */
export type ScriptHost = {
  readonly catalog: CommandCatalog;
  /** Global variables; they outlive one run, as `/system script environment` shows. */
  readonly globals: Map<string, ScriptValue>;
  runMenuCommand(call: MenuCall, context: RunContext): Promise<ScriptValue>;
  /** Adds a `/log` entry with topics `script` and `level`. */
  log(level: 'info' | 'warning' | 'error' | 'debug', message: string): void;
  /** Waits `seconds` on the device clock; rejects when `signal` aborts. */
  delay(seconds: number, signal: AbortSignal): Promise<void>;
  /** Starts a background job as `:execute` does and returns its id. */
  executeInBackground(
    script: { source: string; block: Block | undefined },
    options: { file: string | undefined; origin: Origin },
  ): ScriptValue;
  /** Resolves a DNS name as `:resolve` does; the simulator has no network, so it fails. */
  resolve(name: string): Promise<ScriptValue>;
  /** Milliseconds on the device clock, for `:time`. */
  now(): number;
};
