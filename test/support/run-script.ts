import { execFile } from 'node:child_process';

/** Exit code and output of a finished program. */
export type ScriptResult = { exitCode: number; stdout: string; stderr: string };

/**
 * Runs `file` with `args` and resolves with its exit code and output, also when it fails.
 * A program killed by the 20 s timeout, or one that cannot start, reports exit code -1.
 */
export function runScript(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 20_000, env }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ exitCode: 0, stdout, stderr });
        return;
      }

      const exitCode = typeof error.code === 'number' ? error.code : -1;
      resolve({ exitCode, stdout, stderr });
    });
  });
}
