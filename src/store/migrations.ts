import { randomUUID } from 'node:crypto';

import type { Database } from 'better-sqlite3';

/**
 * `PRAGMA application_id` of an agent database: "EAGT" in ASCII. A SQLite file with another id,
 * or with tables but no id, belongs to some other program and is never modified.
 */
export const APPLICATION_ID = 0x45414754;

/** One schema change. `version` is stored in `PRAGMA user_version` once the change commits. */
export type Migration = {
  version: number;
  description: string;
  up(db: Database): void;
};

const RUN_STATES =
  "'pending', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'skipped', 'interrupted'";

/**
 * The schema history, oldest first. Never edit a released migration: add a new one, because
 * agents in the field have already applied the old ones.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'jobs, runs, outbox, device facts and pins, backups',
    up(db) {
      db.exec(`
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          site_id TEXT NOT NULL,
          -- The job as accepted, JSON; never changed after intake.
          content TEXT NOT NULL,
          -- SHA-256 of the canonical signed fields, to tell a resend from a conflicting job.
          content_digest TEXT NOT NULL,
          launch_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          received_at INTEGER NOT NULL,
          launched_at INTEGER,
          cancel_requested_at INTEGER,
          verdict TEXT NOT NULL DEFAULT 'pending' CHECK (verdict IN ('pending', 'completed', 'failed')),
          finished_at INTEGER
        ) STRICT;

        CREATE INDEX jobs_unfinished ON jobs (launch_at) WHERE verdict = 'pending';
        CREATE INDEX jobs_finished ON jobs (finished_at) WHERE verdict != 'pending';

        CREATE TABLE runs (
          job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          device_id TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN (${RUN_STATES})),
          reason_code TEXT,
          reason_message TEXT,
          error_line INTEGER,
          error_column INTEGER,
          output TEXT,
          output_truncated INTEGER NOT NULL DEFAULT 0,
          output_bytes INTEGER NOT NULL DEFAULT 0,
          output_captured INTEGER NOT NULL DEFAULT 1,
          started_at INTEGER,
          finished_at INTEGER,
          revision INTEGER NOT NULL,
          PRIMARY KEY (job_id, device_id)
        ) STRICT;

        CREATE INDEX runs_unfinished ON runs (state) WHERE state IN ('pending', 'running');

        -- AUTOINCREMENT keeps sequence numbers increasing even after acknowledged rows are deleted.
        CREATE TABLE outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          created_at INTEGER NOT NULL,
          type TEXT NOT NULL,
          job_id TEXT NOT NULL,
          device_id TEXT,
          payload TEXT NOT NULL
        ) STRICT;

        CREATE INDEX outbox_job ON outbox (job_id);

        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value ANY
        ) STRICT;

        INSERT INTO settings (key, value) VALUES ('outbox_acknowledged_seq', 0);
        -- Identifies this outbox to the control plane: a new id means sequence numbers restarted.
        INSERT INTO settings (key, value) VALUES ('outbox_id', '${randomUUID()}');

        CREATE TABLE device_pins (
          device_id TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('ssh-host-key', 'tls-certificate')),
          fingerprint TEXT NOT NULL,
          pinned_at INTEGER NOT NULL,
          PRIMARY KEY (device_id, kind)
        ) STRICT;

        CREATE TABLE device_facts (
          device_id TEXT PRIMARY KEY,
          version TEXT NOT NULL,
          board TEXT NOT NULL,
          identity TEXT NOT NULL,
          architecture TEXT NOT NULL,
          last_seen_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE backups (
          job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          device_id TEXT NOT NULL,
          captured_at INTEGER NOT NULL,
          config TEXT NOT NULL,
          PRIMARY KEY (job_id, device_id)
        ) STRICT;

        -- Ids of deleted jobs until they expire, so a resent job is never run a second time.
        CREATE TABLE job_tombstones (
          id TEXT PRIMARY KEY,
          content_digest TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        ) STRICT;
      `);
    },
  },
  {
    version: 2,
    description: 'index of run states by job',
    up(db) {
      // Lets the verdict check find an unfinished run of a job with one index seek instead of
      // reading every run of the job after each result.
      db.exec('CREATE INDEX runs_job_state ON runs (job_id, state)');
    },
  },
  {
    version: 3,
    description: 'time of the last login to each device',
    up(db) {
      // A login whose facts could not be read still shows the device as reached, also for a
      // device that never reported facts and so has no row in device_facts.
      db.exec(`
        CREATE TABLE device_logins (
          device_id TEXT PRIMARY KEY,
          logged_in_at INTEGER NOT NULL
        ) STRICT
      `);
    },
  },
];

/** The schema version this program writes. A database with a higher version is from a newer agent. */
export const SCHEMA_VERSION = MIGRATIONS.reduce(
  (latest, step) => Math.max(latest, step.version),
  0,
);
