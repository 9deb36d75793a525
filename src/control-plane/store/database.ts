import Database from 'better-sqlite3';
import { AgentError } from '../../errors.js';

/** Schema version this build writes, kept in SQLite's `user_version`. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- Highest status sequence number recorded from the site's agent; acknowledged cumulatively.
  last_seq INTEGER NOT NULL DEFAULT 0,
  -- Outbox id the agent last reported; sequence numbers belong to one outbox.
  outbox_id TEXT,
  last_contact_at INTEGER
);

CREATE TABLE scripts (
  id TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  script TEXT NOT NULL,
  launch_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  make_backup INTEGER NOT NULL,
  test_site_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('unauthorized', 'authorized', 'cancelled')),
  authorized_by TEXT,
  authorized_at INTEGER,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE script_sites (
  script_id TEXT NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (script_id, site_id)
);

CREATE TABLE deliveries (
  script_id TEXT NOT NULL REFERENCES scripts(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'offered', 'accepted', 'rejected')),
  offer_json TEXT,
  offered_at INTEGER,
  accepted_at INTEGER,
  reject_code TEXT,
  reject_message TEXT,
  launched_at INTEGER,
  -- JSON array of the device ids the agent created runs for at launch.
  launched_device_ids TEXT,
  agent_verdict TEXT CHECK (agent_verdict IN ('completed', 'failed')),
  verdict_at INTEGER,
  PRIMARY KEY (script_id, site_id)
);

-- The latest revision of each run; an update with a lower or equal revision changes nothing.
CREATE TABLE device_results (
  script_id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  state TEXT NOT NULL,
  revision INTEGER NOT NULL,
  reason_code TEXT,
  reason_message TEXT,
  error_line INTEGER,
  error_column INTEGER,
  output TEXT,
  output_truncated INTEGER NOT NULL,
  output_bytes INTEGER NOT NULL,
  output_captured INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (script_id, site_id, device_id)
);

-- Every status event recorded, once per site, outbox and sequence number.
CREATE TABLE status_events (
  site_id TEXT NOT NULL,
  outbox_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  script_id TEXT NOT NULL,
  device_id TEXT,
  revision INTEGER,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, outbox_id, seq)
);
`;

/**
 * Opens (creating when absent) the control plane's SQLite database and applies the schema. The
 * connection holds an exclusive lock on `<file>.lock` for its whole life, so a second control
 * plane on the same file fails with STORE_LOCKED instead of offering the same jobs twice.
 * Audits and tools can still read the database itself.
 */
export function openControlPlaneDatabase(file: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw new AgentError('STORE_FAILED', `Cannot open control-plane database ${file}`, {
      cause: error,
      details: { file },
    });
  }

  try {
    lock(db, file);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    db.close();
    throw error;
  }

  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new AgentError(
      'STORE_TOO_NEW',
      `Database ${file} has schema version ${version}; this build reads up to ${SCHEMA_VERSION}, so upgrade edge-control-plane`,
      { details: { file, version } },
    );
  }

  if (version === 0) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  return db;
}

/**
 * Attaches `<file>.lock` and takes its exclusive lock with a first write, which SQLite keeps
 * until the connection closes. An in-memory database needs no lock.
 */
function lock(db: Database.Database, file: string): void {
  if (file === ':memory:') {
    return;
  }

  const lockFile = `${file}.lock`;
  try {
    // No busy wait: the lock is held for its owner's whole life, so waiting only delays the error.
    db.pragma('busy_timeout = 0');
    db.prepare('ATTACH DATABASE ? AS lock').run(lockFile);
    db.pragma('lock.locking_mode = EXCLUSIVE');
    db.pragma('lock.user_version = 1');
  } catch (error) {
    const code = error instanceof Database.SqliteError ? error.code : '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new AgentError(
        'STORE_LOCKED',
        `Control-plane database ${file} is in use by another process (lock file ${lockFile}), probably a second control plane; stop it or set database to another file`,
        { cause: error, details: { file, lockFile } },
      );
    }

    throw new AgentError('STORE_FAILED', `Cannot lock control-plane database ${file}`, {
      cause: error,
      details: { file, lockFile },
    });
  }
}
