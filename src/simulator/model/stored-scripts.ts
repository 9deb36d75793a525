import { formatDeviceDate } from './profiles.js';
import type { DeviceRuntime } from './runtime.js';
import type { Item } from './state.js';
import { DeviceTrap, type Origin } from './types.js';

/**
 * Runs a `/system script` item in the foreground, as `/system script run` does: its output is
 * discarded, its run count and start time are updated, and a failure becomes a trap.
 */
export async function runStoredScript(
  runtime: DeviceRuntime,
  item: Item,
  signal: AbortSignal,
  origin: Origin,
): Promise<void> {
  recordScriptStart(runtime, item);
  const outcome = await runtime.runSource(
    { source: item.values.source ?? '', block: undefined },
    { signal, origin },
  );
  const failure = outcome.run.failure;
  if (failure !== undefined) {
    throw outcome.trap ?? new DeviceTrap(failure.message, 3);
  }
}

/** Counts a run of a `/system script` item and sets its start time to now. */
export function recordScriptStart(runtime: DeviceRuntime, item: Item): void {
  item.values = {
    ...item.values,
    'run-count': String(Number(item.values['run-count'] ?? '0') + 1),
    'last-started': formatDeviceDate(runtime.version, new Date(runtime.clock.now())),
  };
}
