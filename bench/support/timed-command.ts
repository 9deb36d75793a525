import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type TreeMemory, TreeMemorySampler } from './process-tree.js';

/** A command's exit and what it cost, as `/usr/bin/time -v` and /proc sampling saw it. */
export type TimedRun = {
  exitCode: number;
  /** From spawn to exit, measured by the parent, in milliseconds. */
  wallMs: number;
  /** User and system time of the command and every child it waited for, in milliseconds. */
  userMs: number;
  systemMs: number;
  cpuMs: number;
  /** Largest resident set of any single process of the tree, in bytes. */
  maxRssBytes: number;
  /** Peak sums over the whole process tree, sampled every 100 ms. */
  peak: TreeMemory;
  stdout: string;
  stderr: string;
};

export type TimedOptions = {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kills the command after this long, in milliseconds. Default 600 000. */
  timeoutMs?: number;
};

/**
 * Runs a command under `/usr/bin/time -v`, which reports the CPU time of the command and of
 * every descendant it waited for (getrusage RUSAGE_CHILDREN), and samples the memory of the
 * process tree meanwhile.
 */
export async function runTimed(
  command: string,
  args: readonly string[],
  options: TimedOptions = {},
): Promise<TimedRun> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-time-'));
  const timeFile = path.join(directory, 'time.txt');

  try {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-v', '-o', timeFile, command, ...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sampler = new TreeMemorySampler(child.pid ?? 0);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);

    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? -1));
    });
    const wallMs = performance.now() - started;
    clearTimeout(timer);
    const peak = sampler.stop();

    const report = readFileSync(timeFile, 'utf8');
    const userMs = numberField(report, 'User time (seconds)') * 1000;
    const systemMs = numberField(report, 'System time (seconds)') * 1000;
    return {
      exitCode,
      wallMs,
      userMs,
      systemMs,
      cpuMs: userMs + systemMs,
      maxRssBytes: numberField(report, 'Maximum resident set size (kbytes)') * 1024,
      peak,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function numberField(report: string, name: string): number {
  const line = report.split('\n').find((text) => text.trim().startsWith(`${name}:`));
  if (line === undefined) {
    throw new Error(`/usr/bin/time reported no "${name}"; its report was:\n${report}`);
  }

  return Number(line.slice(line.lastIndexOf(':') + 1).trim());
}
