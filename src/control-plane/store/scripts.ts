import type Database from 'better-sqlite3';
import type { SiteConfig } from '../config.js';
import type { ScheduledScript, ScriptDraft, ScriptStatus } from '../types.js';

type ScriptRow = {
  id: string;
  description: string;
  script: string;
  launch_at: number;
  expires_at: number;
  make_backup: number;
  test_site_id: string | null;
  status: ScriptStatus;
  authorized_by: string | null;
  authorized_at: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
};

/** Scheduled scripts, their target sites and the configured sites. */
export class ScriptRepository {
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
  }

  /** Makes the sites table match the configuration; sites no longer configured are kept. */
  syncSites(sites: readonly SiteConfig[]): void {
    const upsert = this.db.prepare(
      'INSERT INTO sites (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name',
    );
    this.db.transaction(() => {
      for (const site of sites) {
        upsert.run(site.id, site.name);
      }
    })();
  }

  siteExists(siteId: string): boolean {
    return this.db.prepare('SELECT 1 FROM sites WHERE id = ?').get(siteId) !== undefined;
  }

  insert(id: string, draft: ScriptDraft, createdBy: string, now: number): ScheduledScript {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO scripts (id, description, script, launch_at, expires_at, make_backup,
             test_site_id, status, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'unauthorized', ?, ?, ?)`,
        )
        .run(id, ...draftColumns(draft), createdBy, now, now);
      this.replaceSites(id, draft.sites);
    })();

    return this.require(id);
  }

  /** Replaces a script's editable fields and resets it to `unauthorized`. */
  update(id: string, draft: ScriptDraft, now: number): ScheduledScript {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE scripts SET description = ?, script = ?, launch_at = ?, expires_at = ?,
             make_backup = ?, test_site_id = ?, status = 'unauthorized', authorized_by = NULL,
             authorized_at = NULL, updated_at = ?
           WHERE id = ?`,
        )
        .run(...draftColumns(draft), now, id);
      this.replaceSites(id, draft.sites);
      this.db.prepare('DELETE FROM deliveries WHERE script_id = ?').run(id);
    })();

    return this.require(id);
  }

  /** Marks a script authorized and creates one waiting delivery per target site. */
  authorize(id: string, authorizedBy: string, now: number): ScheduledScript {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE scripts SET status = 'authorized', authorized_by = ?, authorized_at = ?,
             updated_at = ? WHERE id = ?`,
        )
        .run(authorizedBy, now, now, id);
      this.db
        .prepare(
          `INSERT OR IGNORE INTO deliveries (script_id, site_id, state)
           SELECT script_id, site_id, 'waiting' FROM script_sites WHERE script_id = ?`,
        )
        .run(id);
    })();

    return this.require(id);
  }

  /** Moves an authorized script's launch time, keeping its approval. */
  setLaunchAt(id: string, launchAt: number, now: number): ScheduledScript {
    this.db
      .prepare('UPDATE scripts SET launch_at = ?, updated_at = ? WHERE id = ?')
      .run(launchAt, now, id);
    return this.require(id);
  }

  cancel(id: string, now: number): ScheduledScript {
    this.db
      .prepare(`UPDATE scripts SET status = 'cancelled', updated_at = ? WHERE id = ?`)
      .run(now, id);
    return this.require(id);
  }

  get(id: string): ScheduledScript | undefined {
    const row = this.db.prepare('SELECT * FROM scripts WHERE id = ?').get(id) as
      | ScriptRow
      | undefined;
    return row === undefined ? undefined : this.fromRow(row);
  }

  list(): ScheduledScript[] {
    const rows = this.db
      .prepare('SELECT * FROM scripts ORDER BY created_at, id')
      .all() as ScriptRow[];
    return rows.map((row) => this.fromRow(row));
  }

  private require(id: string): ScheduledScript {
    const script = this.get(id);
    if (script === undefined) {
      throw new Error(`Script ${id} vanished inside its own transaction`);
    }

    return script;
  }

  private replaceSites(id: string, sites: readonly string[]): void {
    this.db.prepare('DELETE FROM script_sites WHERE script_id = ?').run(id);
    const insert = this.db.prepare(
      'INSERT INTO script_sites (script_id, site_id, position) VALUES (?, ?, ?)',
    );
    sites.forEach((siteId, position) => {
      insert.run(id, siteId, position);
    });
  }

  private sitesOf(id: string): string[] {
    const rows = this.db
      .prepare('SELECT site_id FROM script_sites WHERE script_id = ? ORDER BY position')
      .all(id) as Array<{ site_id: string }>;
    return rows.map((row) => row.site_id);
  }

  private fromRow(row: ScriptRow): ScheduledScript {
    return {
      id: row.id,
      description: row.description,
      script: row.script,
      launchAt: row.launch_at,
      expiresAt: row.expires_at,
      sites: this.sitesOf(row.id),
      makeBackup: row.make_backup === 1,
      ...(row.test_site_id === null ? {} : { testSiteId: row.test_site_id }),
      status: row.status,
      ...(row.authorized_by === null ? {} : { authorizedBy: row.authorized_by }),
      ...(row.authorized_at === null ? {} : { authorizedAt: row.authorized_at }),
      createdBy: row.created_by,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }
}

function draftColumns(draft: ScriptDraft): [string, string, number, number, number, string | null] {
  return [
    draft.description,
    draft.script,
    draft.launchAt,
    draft.expiresAt,
    draft.makeBackup ? 1 : 0,
    draft.testSiteId ?? null,
  ];
}
