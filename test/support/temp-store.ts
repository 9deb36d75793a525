import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type Database from 'better-sqlite3';

import { type OpenStoreOptions, Store } from '../../src/store/store.js';

/** Creates a temporary directory for store files, readable by every user so tests can drop privileges. */
export function makeStoreDirectory(): { dir: string; file: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edge-agent-store-'));
  chmodSync(dir, 0o755);

  return {
    dir,
    file: path.join(dir, 'agent.db'),
    remove() {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens a store on a new temporary file; `close` closes it and deletes the directory. */
export function openTempStore(options: OpenStoreOptions = {}): Store & { dispose(): void } {
  const directory = makeStoreDirectory();
  const store = Store.open(directory.file, { busyTimeoutMs: 100, ...options });

  return Object.assign(store, {
    dispose() {
      store.close();
      directory.remove();
    },
  });
}

/**
 * Makes the database behave as on a full disk: returns free pages to the file and caps the
 * file at its current page count with `PRAGMA max_page_count`. Writes that fit in the free
 * space of existing pages still succeed, so a test must write a value larger than a page
 * (4 KiB) to see SQLITE_FULL.
 */
export function fillDatabase(db: Database.Database): void {
  db.pragma('incremental_vacuum');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
}

/** Lifts the cap of `fillDatabase`, as when space returns to the disk. */
export function freeDatabase(db: Database.Database): void {
  db.pragma('max_page_count = 1073741823');
}

/** User and group `nobody`, which read-only tests switch to when they run as root. */
const NOBODY = 65534;

/**
 * Runs `body` with the effective user `nobody` when the tests run as root, because root may
 * write any file and so never gets a permission error. `body` must be synchronous.
 */
export function asUnprivilegedUser<T>(body: () => T): T {
  if (process.geteuid?.() !== 0 || process.seteuid === undefined || process.setegid === undefined) {
    return body();
  }

  process.setegid(NOBODY);
  process.seteuid(NOBODY);
  try {
    return body();
  } finally {
    process.seteuid(0);
    process.setegid(0);
  }
}
