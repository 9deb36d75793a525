import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { AgentError } from '../errors.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { diagnoseOpenFailure, nodeStoreCode, storeError } from './sqlite-errors.js';

export type OpenDatabaseOptions = {
  /** How long a statement waits for a lock held by another connection. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Run `PRAGMA quick_check` on an existing database before using it. Default true. */
  integrityCheck?: boolean;
};

/**
 * Opens the agent's SQLite database, creating it and its directory when missing, and brings the
 * schema up to date. The connection holds an exclusive lock for its whole life, so a second
 * agent on the same file fails with STORE_LOCKED instead of running the same jobs again.
 *
 * Throws STORE_CORRUPT, STORE_FOREIGN, STORE_TOO_NEW, STORE_READ_ONLY, STORE_FULL or
 * STORE_LOCKED. A foreign or newer database is never modified.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database.Database {
  ensureDirectory(file);

  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    const isNew = checkIdentity(db, file);
    configure(db, isNew);

    if (!isNew && options.integrityCheck !== false) {
      checkIntegrity(db, file);
    }

    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw diagnoseOpenFailure(error, file);
  }
}

function ensureDirectory(file: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  } catch (error) {
    throw storeError(nodeStoreCode(error) ?? 'STORE_FAILED', file, 'creating its directory', error);
  }
}

/**
 * Checks that the file is an agent database this program can use, reading only. Returns true
 * for a file with no schema yet.
 */
function checkIdentity(db: Database.Database, file: string): boolean {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;

  if (applicationId === 0 && version === 0 && objects === 0) {
    return true;
  }

  if (applicationId !== APPLICATION_ID) {
    throw new AgentError(
      'STORE_FOREIGN',
      `store ${file} is a SQLite database of another program (application_id ${applicationId}); set store.path to a new file`,
      { details: { file, applicationId } },
    );
  }

  if (version > SCHEMA_VERSION) {
    throw new AgentError(
      'STORE_TOO_NEW',
      `store ${file} has schema version ${version} from a newer agent, and this agent knows up to ${SCHEMA_VERSION}; upgrade the agent`,
      { details: { file, version, supported: SCHEMA_VERSION } },
    );
  }

  return false;
}

function configure(db: Database.Database, isNew: boolean): void {
  if (isNew) {
    // Only takes effect before the first table exists; lets retention return freed pages.
    db.pragma('auto_vacuum = INCREMENTAL');
  }

  db.pragma('locking_mode = EXCLUSIVE');
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal') {
    throw new AgentError(
      'STORE_FAILED',
      `SQLite kept journal mode ${String(journalMode)} instead of WAL`,
    );
  }

  // FULL syncs the WAL on every commit: a commit survives power loss, which NORMAL does not promise.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');

  // The first write takes the exclusive lock and proves the file and directory are writable.
  db.exec('BEGIN IMMEDIATE; COMMIT');
}

function checkIntegrity(db: Database.Database, file: string): void {
  const rows = db.pragma('quick_check', { simple: false }) as Array<{ quick_check: string }>;
  const problems = rows.map((row) => row.quick_check).filter((text) => text !== 'ok');
  if (problems.length > 0) {
    throw storeError(
      'STORE_CORRUPT',
      file,
      `the integrity check (${problems.slice(0, 3).join('; ')})`,
    );
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;

  for (const migration of MIGRATIONS) {
    if (migration.version <= current) {
      continue;
    }

    db.transaction(() => {
      migration.up(db);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
