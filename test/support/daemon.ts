import path from 'node:path';

import {
  ChildProcesses,
  defaultLauncher,
  type Launcher,
  type OutputLine,
} from '../../src/demo/children.js';
import { parseLogLine } from '../../src/demo/stack.js';

/** Time a daemon started from the TypeScript sources gets to log `agent started`. */
export const START_TIMEOUT_MS = 20_000;

/** Returns a launcher that loads `preload` with `node --import` first, to inject a fault. */
export function launcherWithPreload(preload: string): Launcher {
  return (program) => {
    const { command, args } = defaultLauncher(program);
    return { command, args: ['--import', path.resolve(preload), ...args] };
  };
}

/** Starts `edge-agent run --config FILE` as child `name`. */
export function startDaemon(children: ChildProcesses, name: string, configFile: string): void {
  children.start(name, 'edge-agent', ['run', '--config', configFile]);
}

/** Returns the JSON log records child `name` wrote to standard output so far. */
export function logRecords(children: ChildProcesses, name: string): Array<Record<string, unknown>> {
  return children.lines
    .filter((line) => line.name === name && line.stream === 'stdout')
    .flatMap((line) => {
      const record = parseLogLine(line.text);
      return record === undefined ? [] : [record];
    });
}

/** Resolves with the first log record of child `name` whose `msg` is `message`. */
export async function waitForLog(
  children: ChildProcesses,
  name: string,
  message: string,
  timeoutMs = START_TIMEOUT_MS,
): Promise<Record<string, unknown>> {
  const line = await children.waitForLine(
    name,
    (text) => parseLogLine(text)?.msg === message,
    timeoutMs,
  );
  return parseLogLine(line.text) ?? {};
}

/** Waits for `agent started` and returns the daemon's status URL. */
export async function daemonStatusUrl(children: ChildProcesses, name: string): Promise<string> {
  const record = await waitForLog(children, name, 'agent started');
  return String(record.statusUrl);
}

/** Returns the text a child wrote to standard error. */
export function stderrOf(children: ChildProcesses, name: string): string {
  return children.lines
    .filter((line: OutputLine) => line.name === name && line.stream === 'stderr')
    .map((line) => line.text)
    .join('\n');
}

export { ChildProcesses };
