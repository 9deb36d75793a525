import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** True when this file runs from its TypeScript source (vitest) rather than from `dist`. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Repository root, whether this file runs from `bench/support` or `dist/bench/support`. */
export const REPOSITORY_ROOT = FROM_SOURCE
  ? path.resolve(HERE, '../..')
  : path.resolve(HERE, '../../..');

/** How to start a module of this repository in a child `node` process. */
export type ChildModule = {
  /** File to run. */
  script: string;
  /** Options for `node` itself, before the file. */
  execArgv: string[];
};

/**
 * Locates a module of this repository, such as `bench/support/simulator-process` or
 * `src/cli/edge-agent`, for a child process. From `dist` that is the compiled file. From the
 * sources (under vitest) it is the `.ts` file, run through the tests' loader, which transpiles
 * it on the fly.
 */
export function childModule(modulePath: string): ChildModule {
  const profile = profileArguments();
  if (!FROM_SOURCE) {
    return { script: path.join(REPOSITORY_ROOT, 'dist', `${modulePath}.js`), execArgv: profile };
  }

  const loader = path.join(REPOSITORY_ROOT, 'test/support/typescript-loader.mjs');
  return {
    script: path.join(REPOSITORY_ROOT, `${modulePath}.ts`),
    execArgv: [...profile, '--import', loader],
  };
}

/**
 * With `BENCH_PROFILE_DIR` set, every child process writes a V8 CPU profile there when it exits
 * (`node --cpu-prof`), to be opened in Chrome DevTools. Node refuses `--cpu-prof` in
 * NODE_OPTIONS, so the benchmarks pass it themselves.
 */
function profileArguments(): string[] {
  const directory = process.env.BENCH_PROFILE_DIR;
  return directory === undefined || directory === ''
    ? []
    : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(directory)}`];
}

/** Returns the whole `node` argument list that runs `modulePath` with `args`. */
export function nodeArguments(modulePath: string, args: readonly string[] = []): string[] {
  const { script, execArgv } = childModule(modulePath);
  return [...execArgv, script, ...args];
}
