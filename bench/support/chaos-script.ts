/**
 * The RouterOS scripts the chaos driver schedules. Each job's script counts its own runs in a
 * device global named after the job, so the simulator can tell how often every job really
 * ran on every device, and prints the device identity and that count.
 */

/** Prefix of the device globals that count runs; the job's number follows it. */
export const COUNTER_PREFIX = 'chaosRun';

/** Behaviour of a job's script after it counted its run. */
export type ScriptKind =
  /** Prints its line and ends. */
  | 'quick'
  /** Prints its line, waits a few seconds with `:delay`, then prints `done`. */
  | 'long'
  /** Prints its line, then fails with `:error`. */
  | 'failing';

/** Returns the name of the device global that counts the runs of job number `jobNumber`. */
export function counterName(jobNumber: number): string {
  return `${COUNTER_PREFIX}${jobNumber}`;
}

/** Builds the script of job number `jobNumber`; `delaySeconds` applies to `long` scripts. */
export function chaosScript(jobNumber: number, kind: ScriptKind, delaySeconds: number): string {
  const counter = counterName(jobNumber);
  const lines = [
    `:global ${counter}`,
    `:if ([:typeof $${counter}] != "num") do={:set ${counter} 0}`,
    `:set ${counter} ($${counter} + 1)`,
    `:put ("chaos-run " . [/system identity get name] . " " . $${counter})`,
  ];
  if (kind === 'long') {
    lines.push(`:delay ${delaySeconds}s`, ':put "done"');
  } else if (kind === 'failing') {
    lines.push(':error "chaos script failed on purpose"');
  }

  return lines.join('\n');
}

const OUTPUT_PATTERN = /chaos-run (\S+) (\d+)/;

/** Reads the identity and run count a chaos script printed, or undefined when it printed none. */
export function parseChaosOutput(output: string): { identity: string; run: number } | undefined {
  const match = OUTPUT_PATTERN.exec(output);
  if (match === null) {
    return undefined;
  }

  return { identity: match[1] ?? '', run: Number(match[2]) };
}
