// Module hooks that let a child `node` process run this repository's TypeScript sources without
// a build: `node --import ./test/support/typescript-loader.mjs src/cli/edge-agent.ts ...`.
// Relative `.js` imports resolve to the `.ts` file beside them, and `.ts` files are transpiled
// one at a time with the project's TypeScript, without type checking. Transpiled files are
// cached in node_modules/.cache by path, size and modification time, so that later runs skip
// loading TypeScript altogether.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  register(import.meta.url, import.meta.url);
}

export async function resolve(specifier, context, nextResolve) {
  const isRelative = specifier.startsWith('./') || specifier.startsWith('../');
  if (isRelative && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) {
      return { url: candidate.href, shortCircuit: true };
    }
  }

  return nextResolve(specifier, context);
}

const CACHE_DIRECTORY = fileURLToPath(
  new URL('../../node_modules/.cache/edge-agent-ts/', import.meta.url),
);

let typescript;

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) {
    return nextLoad(url, context);
  }

  const file = fileURLToPath(url);
  const { size, mtimeMs } = await stat(file);
  const key = createHash('sha256').update(`${file}\0${size}\0${mtimeMs}`).digest('hex');
  const cached = `${CACHE_DIRECTORY}${key}.js`;
  if (existsSync(cached)) {
    return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  }

  const source = await transpile(file);
  await mkdir(CACHE_DIRECTORY, { recursive: true });
  const temporary = `${cached}.${process.pid}.tmp`;
  await writeFile(temporary, source);
  await rename(temporary, cached);
  return { format: 'module', source, shortCircuit: true };
}

async function transpile(file) {
  typescript ??= (await import('typescript')).default;
  const output = typescript.transpileModule(await readFile(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
    },
  });
  return output.outputText;
}
