import type { Clock } from '../../clock.js';
import type { Block } from '../script/ast.js';
import type { ScriptHost } from '../script/host.js';
import type { ScriptValue } from '../script/values.js';
import type { DeviceCatalog } from './command-catalog.js';
import type { MenuEngine } from './menu-engine.js';
import type { RowReader } from './menu-rows.js';
import type { ComputeContext, SeedContext } from './menu-spec.js';
import type { BoardProfile } from './profiles.js';
import type { DeviceTrap, Origin, RouterOsVersion, ScriptRun } from './types.js';

/** A script to run: its text, and its parsed form when the caller already has it. */
export type ScriptSource = { readonly source: string; readonly block: Block | undefined };

/** The outcome of one script run, with the trap that stopped it, if any. */
export type ScriptOutcome = { readonly run: ScriptRun; readonly trap: DeviceTrap | undefined };

/**
 * Device state and services shared by the console, API and job code of one device. The device class implements it; the
 * views receive it instead of the class so they stay independent of each other.
 */
export type DeviceRuntime = {
  readonly version: RouterOsVersion;
  readonly profile: BoardProfile;
  readonly clock: Clock;
  readonly catalog: DeviceCatalog;
  readonly engine: MenuEngine;
  readonly rows: RowReader;
  readonly host: ScriptHost;
  readonly globals: Map<string, ScriptValue>;
  readonly seedContext: SeedContext;
  computeContext(): ComputeContext;
  /** Adds a `/log` entry. */
  log(topics: string, message: string): void;
  /** Calls `listener` for each new `/log` entry until the returned function is called. */
  followLog(listener: (id: number) => void): () => void;
  /** Runs a script to its end in the foreground and counts the execution. */
  runSource(
    script: ScriptSource,
    options: { signal: AbortSignal; origin: Origin },
  ): Promise<ScriptOutcome>;
  /** Starts a background job; returns its `/system script job` id. */
  startJob(
    script: ScriptSource,
    options: { file: string | undefined; origin: Origin; name: string | undefined },
  ): number;
  /** Stops a background job, as removing it from `/system script job` does. */
  stopJob(id: number): void;
  /** Takes the device down through the registered reboot handlers. */
  reboot(): void;
};
