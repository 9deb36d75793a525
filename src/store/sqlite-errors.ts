import { closeSync, openSync, statfsSync, unlinkSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { AgentError, type ErrorCode, errorMessage } from '../errors.js';

/** Operator guidance for each store failure, printed after the file name. */
const NEXT_STEPS: Readonly<Partial<Record<ErrorCode, string>>> = {
  STORE_CORRUPT:
    'is corrupt; stop the agent, move the file and its -wal file aside for analysis, and restart to create a new one',
  STORE_READ_ONLY:
    "cannot be written; give the agent's user write access to the file and its directory, or set store.path",
  STORE_FULL:
    'cannot grow because the disk is full; free space or lower store.retention.maxSizeMiB',
  STORE_LOCKED:
    'is locked by another process, probably a second agent; stop it, because two agents on one store would run jobs twice',
  STORE_FAILED: 'failed',
};

/** Returns the store error code for a SQLite result code, or undefined for other errors. */
export function storeCodeOf(error: unknown): ErrorCode | undefined {
  if (!(error instanceof Database.SqliteError)) {
    return undefined;
  }

  const code = error.code;
  if (code === 'SQLITE_FULL') {
    return 'STORE_FULL';
  }

  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return 'STORE_CORRUPT';
  }

  if (code.startsWith('SQLITE_READONLY')) {
    return 'STORE_READ_ONLY';
  }

  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return 'STORE_LOCKED';
  }

  return 'STORE_FAILED';
}

/** Creates the AgentError for a store failure, with the file and the operator's next step. */
export function storeError(
  code: ErrorCode,
  file: string,
  operation: string,
  cause?: unknown,
): AgentError {
  const detail = cause === undefined ? '' : ` (${errorMessage(cause)})`;
  const next = NEXT_STEPS[code] ?? 'failed';

  return new AgentError(code, `store ${file} ${next}; ${operation} failed${detail}`, {
    cause,
    details: { file, operation },
  });
}

/**
 * Wraps a SQLite error raised by `operation` in the matching STORE_* error. AgentErrors and
 * programming errors pass through unchanged.
 */
export function translateStoreError(error: unknown, file: string, operation: string): unknown {
  const code = storeCodeOf(error);
  return code === undefined ? error : storeError(code, file, operation, error);
}

/**
 * Classifies a failure to open the store. SQLite reports an unwritable file or directory under
 * several codes (a write lock on a read-only descriptor is `SQLITE_IOERR_LOCK`), and a full disk
 * as an I/O error, so the file system itself is checked.
 */
export function diagnoseOpenFailure(error: unknown, file: string): unknown {
  if (error instanceof AgentError) {
    return error;
  }

  const code = storeCodeOf(error) ?? nodeStoreCode(error);
  if (code === undefined) {
    return error;
  }

  if (code !== 'STORE_FAILED' && code !== 'STORE_READ_ONLY') {
    return storeError(code, file, 'opening', error);
  }

  return storeError(probeFileSystem(file) ?? code, file, 'opening', error);
}

/** Maps a Node file-system error to a store code. */
export function nodeStoreCode(error: unknown): ErrorCode | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return 'STORE_FULL';
  }

  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return 'STORE_READ_ONLY';
  }

  return typeof code === 'string' ? 'STORE_FAILED' : undefined;
}

/** Finds out whether the store's file or directory cannot be written, or its disk is full. */
function probeFileSystem(file: string): ErrorCode | undefined {
  const directory = path.dirname(file);

  try {
    if (statfsSync(directory).bavail === 0) {
      return 'STORE_FULL';
    }
  } catch {
    // The probes below report an unusable directory.
  }

  return probeWrite(() => closeSync(openSync(file, 'r+'))) ?? probeDirectory(directory);
}

function probeDirectory(directory: string): ErrorCode | undefined {
  const probe = path.join(directory, `.edge-agent-probe-${process.pid}`);

  return probeWrite(() => {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  });
}

function probeWrite(write: () => void): ErrorCode | undefined {
  try {
    write();
    return undefined;
  } catch (error) {
    const code = nodeStoreCode(error);
    return code === 'STORE_FAILED' ? undefined : code;
  }
}
