// Module hooks that let a child `node` process run this repository's TypeScript sources without
// a build: `node --import ./test/support/typescript-loader.mjs src/cli/edge-agent.ts ...`.
// Relative `.js` imports resolve to the `.ts` file beside them, and `.ts` files are transpiled
// one at a time with the project's TypeScript, without type checking.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

let typescript;

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) {
    return nextLoad(url, context);
  }

  typescript ??= (await import('typescript')).default;
  const source = await readFile(fileURLToPath(url), 'utf8');
  const output = typescript.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
    },
  });

  return { format: 'module', source: output.outputText, shortCircuit: true };
}
