import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { AgentError } from '../errors.js';

/** The project's programs the demo starts. */
export type ProgramName = 'edge-agent' | 'edge-control-plane' | 'routeros-sim';

/** How to start a program: the executable and the arguments before the program's own. */
export type Launcher = (program: ProgramName) => { command: string; args: string[] };

/**
 * Starts the built programs next to this module (`dist/src/cli/*.js`) with the running node.
 * From the TypeScript sources, which have no `.js` files beside them, it starts the `.ts` files
 * through the repository's test loader instead.
 */
export const defaultLauncher: Launcher = (program) => {
  const built = fileURLToPath(new URL(`../cli/${program}.js`, import.meta.url));
  if (existsSync(built)) {
    return { command: process.execPath, args: [built] };
  }

  const source = fileURLToPath(new URL(`../cli/${program}.ts`, import.meta.url));
  const loader = fileURLToPath(
    new URL('../../test/support/typescript-loader.mjs', import.meta.url),
  );
  return { command: process.execPath, args: ['--import', loader, source] };
};

/** One line a child wrote, with the stream it came from. */
export type OutputLine = { name: string; stream: 'stdout' | 'stderr'; text: string };

type Child = { name: string; process: ChildProcess; exited: Promise<void> };

/** Time a child gets to exit after SIGTERM before it is killed, in milliseconds. */
const STOP_GRACE_MS = 12_000;

/**
 * The child processes of one demo run. Every line they write is recorded and passed to
 * `onLine`. `stopAll` ends them with SIGTERM and then SIGKILL, and a process exit of the parent
 * kills any child still running, so none outlives the demo.
 */
export class ChildProcesses {
  /** Every line every child wrote, in arrival order. */
  readonly lines: OutputLine[] = [];

  private readonly children: Child[] = [];

  private readonly waiters = new Set<(line: OutputLine) => void>();

  private readonly launcher: Launcher;

  private readonly onLine: ((line: OutputLine) => void) | undefined;

  private readonly killOnExit = (): void => {
    for (const child of this.children) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGKILL');
      }
    }
  };

  constructor(options: { launcher?: Launcher; onLine?: (line: OutputLine) => void } = {}) {
    this.launcher = options.launcher ?? defaultLauncher;
    this.onLine = options.onLine;
    process.on('exit', this.killOnExit);
  }

  /** Starts `program` with `args`, under `name` in the recorded output. */
  start(name: string, program: ProgramName, args: readonly string[]): ChildProcess {
    const { command, args: prefix } = this.launcher(program);
    // A process group of its own keeps a terminal's Ctrl-C away from the child, so that only
    // `stop` signals it, once and in order, instead of Ctrl-C and then SIGTERM as a second signal.
    const child = spawn(command, [...prefix, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.children.push({ name, process: child, exited });
    this.readLines(name, 'stdout', child.stdout);
    this.readLines(name, 'stderr', child.stderr);
    return child;
  }

  /**
   * Resolves with the first line, already written or still to come, of child `name` that
   * `matches` accepts. Rejects after `timeoutMs` or when the child exits first.
   */
  waitForLine(
    name: string,
    matches: (text: string) => boolean,
    timeoutMs: number,
  ): Promise<OutputLine> {
    const seen = this.lines.find((line) => line.name === name && matches(line.text));
    if (seen !== undefined) {
      return Promise.resolve(seen);
    }

    const child = this.find(name);
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, line?: OutputLine): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (line !== undefined) {
          resolve(line);
        } else {
          reject(error);
        }
      };
      const waiter = (line: OutputLine): void => {
        if (line.name === name && matches(line.text)) {
          finish(undefined, line);
        }
      };
      const timer = setTimeout(
        () => finish(new AgentError('TIMEOUT', `${name} did not report ready in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.add(waiter);
      void child?.exited.then(() =>
        finish(new AgentError('INTERNAL', `${name} exited before it reported ready`)),
      );
    });
  }

  /** Exit code of child `name`, or null while it runs or when a signal ended it. */
  exitCode(name: string): number | null {
    return this.find(name)?.process.exitCode ?? null;
  }

  /** Sends `signal` to child `name` without waiting for it to exit. */
  signal(name: string, signal: NodeJS.Signals): void {
    this.find(name)?.process.kill(signal);
  }

  /** Resolves with child `name`'s exit code (null after a signal) once it has exited. */
  async exited(name: string): Promise<number | null> {
    const child = this.find(name);
    await child?.exited;
    return child?.process.exitCode ?? null;
  }

  /** Sends SIGTERM to child `name` and resolves once it exited (SIGKILL after the grace time). */
  async stop(name: string): Promise<void> {
    const child = this.find(name);
    if (child !== undefined) {
      await stopChild(child);
    }
  }

  /** Stops every child, the newest first, and stops guarding the parent's exit. */
  async stopAll(): Promise<void> {
    for (const child of [...this.children].reverse()) {
      await stopChild(child);
    }

    process.off('exit', this.killOnExit);
  }

  /** Returns the newest child started under `name`. */
  private find(name: string): Child | undefined {
    return this.children.findLast((entry) => entry.name === name);
  }

  private readLines(
    name: string,
    stream: OutputLine['stream'],
    source: NodeJS.ReadableStream | null,
  ) {
    let buffer = '';
    source?.setEncoding('utf8');
    source?.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        this.record({ name, stream, text: buffer.slice(0, newline) });
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    });
    source?.on('end', () => {
      if (buffer !== '') {
        this.record({ name, stream, text: buffer });
      }
    });
  }

  private record(line: OutputLine): void {
    this.lines.push(line);
    this.onLine?.(line);
    for (const waiter of this.waiters) {
      waiter(line);
    }
  }
}

async function stopChild(child: Child): Promise<void> {
  const running = child.process.exitCode === null && child.process.signalCode === null;
  if (!running) {
    await child.exited;
    return;
  }

  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS);
  await child.exited;
  clearTimeout(timer);
}
