import { type ChildProcess, execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const LOADER = path.join(ROOT, 'test/support/typescript-loader.mjs');

export type CliRun = { code: number; stdout: string; stderr: string };

/** A started `edge-agent` child and its exit code and output once it ends. */
export type CliChild = { child: ChildProcess; ended: Promise<CliRun> };

/**
 * Runs `edge-agent` from the TypeScript sources as a real child process, through the loader
 * that transpiles them, and collects its exit code and output.
 */
export function runEdgeAgent(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<CliRun> {
  return startEdgeAgent(args, env, timeoutMs).ended;
}

/** Starts `edge-agent` like `runEdgeAgent`, returning the child so that a test can signal it. */
export function startEdgeAgent(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): CliChild {
  const program = path.join(ROOT, 'src/cli/edge-agent.ts');
  let child: ChildProcess | undefined;
  const ended = new Promise<CliRun>((resolve, reject) => {
    child = execFile(
      process.execPath,
      ['--import', LOADER, program, ...args],
      { env: { ...process.env, ...env }, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : (error as NodeJS.ErrnoException & { code?: unknown }).code;
        if (typeof code !== 'number') {
          reject(error ?? new Error('edge-agent ended without an exit code'));
          return;
        }

        resolve({ code, stdout, stderr });
      },
    );
  });

  if (child === undefined) {
    throw new Error('edge-agent was not started');
  }

  return { child, ended };
}
