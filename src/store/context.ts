import type { Database } from 'better-sqlite3';

import { translateStoreError } from './sqlite-errors.js';

/** The open database shared by the parts of the store. */
export type StoreContext = {
  db: Database;
  /** Path of the database file, for error messages. */
  file: string;
};

/**
 * Runs `body` in an immediate write transaction and converts SQLite failures to STORE_* errors.
 * On any error the transaction rolls back, so a change and its outbox event are written together
 * or not at all. Nested calls join the outer transaction.
 */
export function writeTransaction<T>(context: StoreContext, operation: string, body: () => T): T {
  try {
    if (context.db.inTransaction) {
      return body();
    }

    return context.db.transaction(body).immediate();
  } catch (error) {
    throw translateStoreError(error, context.file, operation);
  }
}

/** Runs a read and converts SQLite failures to STORE_* errors. */
export function readQuery<T>(context: StoreContext, operation: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw translateStoreError(error, context.file, operation);
  }
}

/**
 * Runs `body` with `synchronous=NORMAL` on a database in WAL mode, so that its transaction
 * commits without waiting for the disk. Such a commit is atomic but may be lost in a power
 * failure. The next commit at the database's own level (FULL) syncs it to disk too.
 * Only for writes whose loss is harmless. Inside an open transaction, `body` joins it as is.
 */
export function withoutSync<T>(context: StoreContext, body: () => T): T {
  const { db } = context;
  if (db.inTransaction) {
    return body();
  }

  const level = readQuery(context, 'reading the sync level', () =>
    db.pragma('synchronous', { simple: true }),
  );
  db.pragma('synchronous = NORMAL');
  try {
    return body();
  } finally {
    db.pragma(`synchronous = ${Number(level)}`);
  }
}
