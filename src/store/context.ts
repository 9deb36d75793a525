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
