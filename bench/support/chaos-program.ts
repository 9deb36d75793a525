import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

import { nodeArguments } from './child-module.js';

/** Time a program gets to print that it is ready, in milliseconds. */
export const READY_TIMEOUT_MS = 30_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Every child the driver started; a process exit of the driver kills those still running. */
const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) {
    child.kill('SIGKILL');
  }
});

/**
 * One start of one of the project's programs (`src/cli/edge-agent`, ...) in a child process.
 * Its standard output and error go, line by line, to a log file that every start of the same
 * program shares, and to the waiters of `waitForLine`.
 */
export class Program {
  readonly child: ChildProcess;

  /** Resolves with the exit code, or the signal's name, once the process has exited. */
  readonly exited: Promise<number | string>;

  private readonly lines: string[] = [];

  private readonly waiters = new Set<(line: string) => void>();

  private readonly log: WriteStream;

  constructor(
    module: string,
    args: readonly string[],
    logFile: string,
    nodeOptions: string[] = [],
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [...nodeOptions, ...nodeArguments(module, args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        running.delete(this.child);
        this.log.end();
        resolve(code ?? signal ?? 'unknown');
      });
    });

    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream !== null) {
        createInterface({ input: stream }).on('line', (line) => this.onLine(line));
      }
    }
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` unless the process has already exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.isRunning) {
      this.child.kill(signal);
    }
  }

  /**
   * Resolves with the match of the first line, written so far or later, that `pattern`
   * matches. Rejects after `timeoutMs` or when the process exits first.
   */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    for (const line of this.lines) {
      const match = pattern.exec(line);
      if (match !== null) {
        return Promise.resolve(match);
      }
    }

    return new Promise((resolve, reject) => {
      const finish = (outcome: RegExpExecArray | Error): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (outcome instanceof Error) {
          reject(outcome);
        } else {
          resolve(outcome);
        }
      };
      const waiter = (line: string): void => {
        const match = pattern.exec(line);
        if (match !== null) {
          finish(match);
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.add(waiter);
      void this.exited.then((code) =>
        finish(new Error(`the process exited (${code}) before a line matching ${pattern}`)),
      );
    });
  }

  private onLine(line: string): void {
    this.log.write(`${line}\n`);
    // Lines are kept only until the program is ready; after that only waiters read them.
    if (this.lines.length < 200) {
      this.lines.push(line);
    }

    for (const waiter of [...this.waiters]) {
      waiter(line);
    }
  }
}
