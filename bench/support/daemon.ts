import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { nodeArguments, REPOSITORY_ROOT } from './child-module.js';
import { readResidentMemory } from './process-tree.js';
import { median } from './report.js';

/** Resident memory of a process, medians of several readings, in bytes. */
export type MemorySample = {
  rss: number;
  pss: number;
  /** Anonymous pages: what the process allocated, without the node binary and libraries. */
  anonymous: number;
};

/** `edge-agent run` started as a child process, its log going to a file. */
export type Daemon = {
  child: ChildProcess;
  /** `performance.now()` just before the spawn. */
  startedAt: number;
  /**
   * Resolves with the status endpoint's base URL, with the port the kernel chose, from the
   * `status endpoint listening` line this start wrote to the log.
   */
  statusUrl(): Promise<string>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
};

/** The systemd unit the agent ships with. */
export const UNIT_FILE = path.join(REPOSITORY_ROOT, 'systemd/edge-agent.service');

/**
 * Returns the options that the unit's `ExecStart=` passes to node before the agent's script,
 * such as `--v8-pool-size=1`.
 */
export function unitNodeOptions(unitText: string = readFileSync(UNIT_FILE, 'utf8')): string[] {
  const words = /^ExecStart=(.*)$/m.exec(unitText)?.[1]?.trim().split(/\s+/) ?? [];
  const script = words.findIndex((word) => word.endsWith('/edge-agent.js'));
  if (script < 1) {
    throw new Error(`no ExecStart= line that runs node with edge-agent.js in ${UNIT_FILE}`);
  }

  return words.slice(1, script);
}

/**
 * Starts `edge-agent run --config FILE` as the systemd unit does: with the node options of its
 * `ExecStart=` line and nothing else. `script` is another build's `edge-agent.js` to run instead
 * of this repository's.
 */
export function startDaemon(configFile: string, logFile: string, script?: string): Daemon {
  // The log file is shared by every start, so only lines past its current end are this start's.
  const logOffset = statSync(logFile, { throwIfNoEntry: false })?.size ?? 0;
  const runArgs = ['run', '--config', configFile];
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...unitNodeOptions(),
      ...(script === undefined
        ? nodeArguments('src/cli/edge-agent', runArgs)
        : [script, ...runArgs]),
    ],
    { stdio: ['ignore', openSync(logFile, 'a'), 'inherit'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null]>;

  return {
    child,
    startedAt,
    statusUrl: () => readStatusUrl(logFile, logOffset, child),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }

      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls the log from `offset` until the daemon logs the URL its status endpoint listens on. */
async function readStatusUrl(logFile: string, offset: number, child: ChildProcess) {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const url = findStatusUrl(readFileSync(logFile).subarray(offset).toString('utf8'));
    if (url !== undefined) {
      return url;
    }

    if (child.exitCode !== null) {
      throw new Error(`edge-agent run exited with code ${child.exitCode} before it listened`);
    }

    await sleep(2);
  }

  throw new Error(`edge-agent run logged no status URL within 60 s; see ${logFile}`);
}

function findStatusUrl(log: string): string | undefined {
  for (const line of log.split('\n')) {
    if (line.includes('"status endpoint listening"')) {
      const record = JSON.parse(line) as { url?: unknown };
      return typeof record.url === 'string' ? record.url : undefined;
    }
  }

  return undefined;
}

/**
 * Polls a status endpoint path as fast as the daemon responds until it returns 200 with a body
 * that `accept` takes. A connection error before the port is bound counts as not ready yet.
 */
export async function waitForStatus(
  baseUrl: string,
  pathname: string,
  child: ChildProcess,
  accept: (body: string) => boolean = () => true,
): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `edge-agent run exited with code ${child.exitCode} before ${pathname} was ready`,
      );
    }

    try {
      const response = await fetch(`${baseUrl}${pathname}`);
      if (response.status === 200 && accept(await response.text())) {
        return;
      }
    } catch {
      // Not listening yet.
    }

    await sleep(2);
  }

  throw new Error(
    `${pathname} of edge-agent run did not return 200 within 60 s; see the daemon's log`,
  );
}

/** Reads a process's memory `count` times, 200 ms apart, and returns the medians. */
export async function sampleMemory(pid: number, count: number): Promise<MemorySample> {
  const readings = [];
  for (let index = 0; index < count; index++) {
    readings.push(readResidentMemory(pid));
    await sleep(200);
  }

  return {
    rss: median(readings.map((reading) => reading.rss)),
    pss: median(readings.map((reading) => reading.pss)),
    anonymous: median(readings.map((reading) => reading.anonymous ?? Number.NaN)),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
