import { parseScriptOutput } from './bench-script.js';
import type { Check } from './report.js';
import type { DeviceTally } from './simulator.js';

/**
 * Checks that the benchmark script ran exactly `expected` more times on every device between
 * two tallies, by the count the script keeps on the device itself.
 */
export function checkExecutions(
  label: string,
  before: readonly DeviceTally[],
  after: readonly DeviceTally[],
  expected: number,
): Check {
  const start = new Map(before.map((device) => [device.id, device.scriptRuns]));
  const wrong = after.filter(
    (device) => device.scriptRuns - (start.get(device.id) ?? 0) !== expected,
  );
  const sample = wrong
    .slice(0, 3)
    .map((device) => `${device.id}: ${device.scriptRuns - (start.get(device.id) ?? 0)}`);

  return {
    name: `${label}: script ran ${expected}x on each device`,
    passed: wrong.length === 0 && after.length > 0,
    detail:
      wrong.length === 0
        ? `${after.length} of ${after.length} devices`
        : `${wrong.length} of ${after.length} devices wrong (${sample.join(', ')})`,
  };
}

/**
 * Checks that a tool returned, for every device, output naming that device's identity. A
 * device missing from `outputs` counts as a failure of the tool.
 */
export function checkOutputs(
  label: string,
  outputs: ReadonlyMap<string, string>,
  tally: readonly DeviceTally[],
): Check {
  const failed = tally.filter(
    (device) => parseScriptOutput(outputs.get(device.id) ?? '')?.identity !== device.identity,
  );
  const sample = failed
    .slice(0, 3)
    .map(
      (device) => `${device.id}: ${JSON.stringify((outputs.get(device.id) ?? '').slice(0, 80))}`,
    );

  return {
    name: `${label}: output of every device`,
    passed: failed.length === 0 && tally.length > 0,
    detail:
      failed.length === 0
        ? `${tally.length} of ${tally.length} devices`
        : `${failed.length} of ${tally.length} devices failed (${sample.join('; ')})`,
  };
}
