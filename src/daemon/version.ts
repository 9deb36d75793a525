import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package name that marks this project's package.json. */
const PACKAGE_NAME = 'routeros-edge-agent';

type Manifest = { name?: unknown; version?: unknown };

let cached: { root: string; manifest: Manifest } | undefined;

/**
 * Finds this project's package.json by walking up from this module, which sits at a different
 * depth in the sources (`src/daemon`) and in the built tree (`dist/src/daemon`).
 */
function findPackage(): { root: string; manifest: Manifest } | undefined {
  let directory = new URL('.', import.meta.url);

  for (let depth = 0; depth < 5 && cached === undefined; depth += 1) {
    try {
      const manifest = JSON.parse(
        readFileSync(new URL('package.json', directory), 'utf8'),
      ) as Manifest;
      if (manifest.name === PACKAGE_NAME) {
        cached = { root: fileURLToPath(directory), manifest };
      }
    } catch {
      // No readable package.json at this level; try the parent directory.
    }

    directory = new URL('..', directory);
  }

  return cached;
}

/**
 * Returns the agent's version from its package.json, or `0.0.0-unknown` when no package.json is
 * found, as in a tree copied without it.
 */
export function agentVersion(): string {
  const version = findPackage()?.manifest.version;
  return typeof version === 'string' ? version : '0.0.0-unknown';
}

/** Returns the project's root directory (where package.json is), or undefined. */
export function projectRoot(): string | undefined {
  return findPackage()?.root;
}
