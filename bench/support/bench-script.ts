/**
 * The RouterOS script every fan-out benchmark runs, whichever tool sends it. It counts its own
 * runs in a device global, so the simulator can tell how often it really ran on each device,
 * and prints the device identity and that count, so each tool's output can be checked too.
 */

/** Name of the device global the script increments. */
export const RUN_COUNTER = 'benchRuns';

export const BENCH_SCRIPT = [
  `:global ${RUN_COUNTER}`,
  `:if ([:typeof $${RUN_COUNTER}] != "num") do={:set ${RUN_COUNTER} 0}`,
  `:set ${RUN_COUNTER} ($${RUN_COUNTER} + 1)`,
  `:put ("bench-ok " . [/system identity get name] . " run " . $${RUN_COUNTER})`,
].join('\n');

const OUTPUT_PATTERN = /bench-ok (\S+) run (\d+)/;

/** The line one run of the script prints: the identity of the device and its run count. */
export type ScriptEcho = { identity: string; run: number };

/** Reads the line the script prints, or returns undefined when the output lacks it. */
export function parseScriptOutput(output: string): ScriptEcho | undefined {
  const match = OUTPUT_PATTERN.exec(output);
  if (match === null) {
    return undefined;
  }

  return { identity: match[1] ?? '', run: Number(match[2]) };
}
