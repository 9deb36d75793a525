import type { Statement } from 'better-sqlite3';

import type { DeviceFacts, PinKind, TrustStore } from '../devices/types.js';
import { readQuery, type StoreContext, writeTransaction } from './context.js';

type FactsRow = {
  version: string;
  board: string;
  identity: string;
  architecture: string;
  last_seen_at: number;
};

/** Facts a device reported at the last login that read them, with the time of that login. */
export type DeviceRecord = DeviceFacts & {
  /** Milliseconds since the epoch of the login that read these facts. */
  lastSeenAt: number;
};

/**
 * Pinned SSH host keys and TLS certificate fingerprints (trust on first use), the facts each
 * device reported at its last login that read them, and the time of each device's last login.
 */
export class DeviceRecords implements TrustStore {
  private readonly context: StoreContext;

  private readonly getPinStatement: Statement<[string, PinKind], string>;

  private readonly pinStatement: Statement<[string, PinKind, string, number]>;

  private readonly unpinStatement: Statement<[string, PinKind]>;

  private readonly getFactsStatement: Statement<[string], FactsRow>;

  private readonly putFactsStatement: Statement<[string, string, string, string, string, number]>;

  private readonly loginStatement: Statement<[string, number]>;

  private readonly lastLoginStatement: Statement<[string, string], number | null>;

  /** Time source for `pinned_at`; the TrustStore contract passes no time. */
  private readonly now: () => number;

  constructor(context: StoreContext, now: () => number) {
    this.context = context;
    this.now = now;
    const db = context.db;

    this.getPinStatement = db
      .prepare<[string, PinKind], string>(
        'SELECT fingerprint FROM device_pins WHERE device_id = ? AND kind = ?',
      )
      .pluck();
    // A pin is never replaced by a later connection: a changed key must be unpinned by an operator.
    this.pinStatement = db.prepare(
      'INSERT INTO device_pins (device_id, kind, fingerprint, pinned_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.unpinStatement = db.prepare('DELETE FROM device_pins WHERE device_id = ? AND kind = ?');
    this.getFactsStatement = db.prepare(
      'SELECT version, board, identity, architecture, last_seen_at FROM device_facts WHERE device_id = ?',
    );
    this.putFactsStatement = db.prepare(
      `INSERT INTO device_facts (device_id, version, board, identity, architecture, last_seen_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET version = excluded.version, board = excluded.board,
         identity = excluded.identity, architecture = excluded.architecture,
         last_seen_at = excluded.last_seen_at`,
    );
    this.loginStatement = db.prepare(
      `INSERT INTO device_logins (device_id, logged_in_at) VALUES (?, ?)
       ON CONFLICT (device_id) DO UPDATE SET logged_in_at = max(logged_in_at, excluded.logged_in_at)`,
    );
    this.lastLoginStatement = db
      .prepare<[string, string], number | null>(
        `SELECT max(seen_at) FROM (
           SELECT last_seen_at AS seen_at FROM device_facts WHERE device_id = ?
           UNION ALL
           SELECT logged_in_at FROM device_logins WHERE device_id = ?)`,
      )
      .pluck();
  }

  get(deviceId: string, kind: PinKind): string | undefined {
    return readQuery(this.context, `reading the ${kind} pin of device ${deviceId}`, () =>
      this.getPinStatement.get(deviceId, kind),
    );
  }

  /** Records the fingerprint seen on first use; an existing pin is kept. */
  pin(deviceId: string, kind: PinKind, fingerprint: string): void {
    writeTransaction(this.context, `pinning the ${kind} of device ${deviceId}`, () => {
      this.pinStatement.run(deviceId, kind, fingerprint, this.now());
    });
  }

  /** Forgets a pin, so the next connection pins whatever the device presents. */
  unpin(deviceId: string, kind: PinKind): boolean {
    return writeTransaction(
      this.context,
      `removing the ${kind} pin of device ${deviceId}`,
      () => this.unpinStatement.run(deviceId, kind).changes === 1,
    );
  }

  /** Stores the facts a device reported at login, replacing earlier ones. */
  recordFacts(deviceId: string, facts: DeviceFacts, seenAt: number): void {
    writeTransaction(this.context, `recording facts of device ${deviceId}`, () => {
      this.putFactsStatement.run(
        deviceId,
        facts.version,
        facts.board,
        facts.identity,
        facts.architecture,
        seenAt,
      );
    });
  }

  /**
   * Records a login at `seenAt` whose facts could not be read, such as to a device that hung on
   * the facts read. Facts stored earlier are kept, with their own time.
   */
  recordLogin(deviceId: string, seenAt: number): void {
    writeTransaction(this.context, `recording a login to device ${deviceId}`, () => {
      this.loginStatement.run(deviceId, seenAt);
    });
  }

  /**
   * Returns the time of the device's last login, with or without facts, or undefined before
   * the first.
   */
  lastLoginAt(deviceId: string): number | undefined {
    return readQuery(
      this.context,
      `reading the last login to device ${deviceId}`,
      () => this.lastLoginStatement.get(deviceId, deviceId) ?? undefined,
    );
  }

  /** Returns the facts of the device's last login that read them, or undefined before it. */
  facts(deviceId: string): DeviceRecord | undefined {
    return readQuery(this.context, `reading facts of device ${deviceId}`, () => {
      const row = this.getFactsStatement.get(deviceId);
      if (row === undefined) {
        return undefined;
      }

      const { last_seen_at: lastSeenAt, ...facts } = row;
      return { ...facts, lastSeenAt };
    });
  }
}
