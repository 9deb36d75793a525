import { RouterOsDevice, type RouterOsDeviceOptions } from '../../src/simulator/model/device.js';
import type { ApiCompletion, ApiRow, Origin, ScriptRun } from '../../src/simulator/model/types.js';

/** Builds a device with fixed seed and uptime so printed values are repeatable. */
export function buildDevice(options: Partial<RouterOsDeviceOptions> = {}): RouterOsDevice {
  return new RouterOsDevice({
    version: '7.17.2',
    identity: 'lab-r1',
    board: 'chr',
    seed: 'fixture',
    uptimeSeconds: 3_600,
    ...options,
  });
}

/** Runs script text as SSH exec would. */
export function runScript(
  device: RouterOsDevice,
  source: string,
  origin: Origin = 'ssh',
  signal = new AbortController().signal,
): Promise<ScriptRun> {
  return device.runScript(source, { signal, origin });
}

export type ApiResult = { rows: ApiRow[]; completion: ApiCompletion };

/**
 * Sends one API command: `word` is the command word (`/ip/address/print`), `words` are
 * `=name=value` attributes and `?query` words as a client writes them.
 */
export async function api(
  device: RouterOsDevice,
  word: string,
  words: readonly string[] = [],
  signal = new AbortController().signal,
): Promise<ApiResult> {
  const parts = word.split('/').filter((part) => part !== '');
  const command = parts.pop() ?? '';
  const attributes: Array<[string, string]> = [];
  const queries: string[] = [];
  for (const text of words) {
    if (text.startsWith('?')) {
      queries.push(text.slice(1));
    } else {
      const equals = text.indexOf('=', 1);
      attributes.push([text.slice(1, equals), text.slice(equals + 1)]);
    }
  }

  const rows: ApiRow[] = [];
  const completion = await device.execute(
    { path: parts, command, attributes, queries },
    { signal, onRow: (row) => rows.push(row) },
  );
  return { rows, completion };
}

/** Returns the value of one attribute in an API row. */
export function field(row: ApiRow | undefined, name: string): string | undefined {
  return row?.find(([key]) => key === name)?.[1];
}
