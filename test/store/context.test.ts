import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type StoreContext, withoutSync } from '../../src/store/context.js';
import { makeStoreDirectory } from '../support/temp-store.js';

let directory: ReturnType<typeof makeStoreDirectory>;
let context: StoreContext;

beforeEach(() => {
  directory = makeStoreDirectory();
  const file = path.join(directory.dir, 'sync.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  context = { db, file };
});

afterEach(() => {
  context.db.close();
  directory.remove();
});

/** SQLite's synchronous level: 1 is NORMAL, 2 is FULL. */
function syncLevel(): unknown {
  return context.db.pragma('synchronous', { simple: true });
}

describe('withoutSync', () => {
  it('runs the body at NORMAL', () => {
    expect(withoutSync(context, syncLevel)).toBe(1);
  });

  it('restores FULL afterwards', () => {
    withoutSync(context, () => undefined);
    expect(syncLevel()).toBe(2);
  });

  it('restores FULL after a throw', () => {
    expect(() =>
      withoutSync(context, () => {
        throw new Error('body failed');
      }),
    ).toThrow();
    expect(syncLevel()).toBe(2);
  });

  it('leaves an open transaction alone', () => {
    const level = context.db.transaction(() => withoutSync(context, syncLevel))();
    expect(level).toBe(2);
  });
});
