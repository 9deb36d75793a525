import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const LOADER = path.join(ROOT, 'test/support/typescript-loader.mjs');

export type CliRun = { code: number; stdout: string; stderr: string };

/**
 * Runs `edge-agent` from the TypeScript sources as a real child process, through the loader
 * that transpiles them, and collects its exit code and output.
 */
export function runEdgeAgent(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<CliRun> {
  const program = path.join(ROOT, 'src/cli/edge-agent.ts');
  return new Promise((resolve, reject) => {
    execFile(
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
}
