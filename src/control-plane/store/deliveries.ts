import type Database from 'better-sqlite3';
import type { ErrorCode } from '../../errors.js';
import type { RunState } from '../../jobs/types.js';
import type { RunReport, StatusFrame } from '../../protocol/messages.js';
import type { Delivery, DeliveryState, DeviceResult } from '../types.js';

type DeliveryRow = {
  script_id: string;
  site_id: string;
  state: DeliveryState;
  offer_json: string | null;
  offered_at: number | null;
  accepted_at: number | null;
  reject_code: ErrorCode | null;
  reject_message: string | null;
  launched_at: number | null;
  launched_device_ids: string | null;
  agent_verdict: 'completed' | 'failed' | null;
  verdict_at: number | null;
};

type ResultRow = {
  device_id: string;
  state: RunState;
  revision: number;
  reason_code: ErrorCode | null;
  reason_message: string | null;
  error_line: number | null;
  error_column: number | null;
  output: string | null;
  output_truncated: number;
  output_bytes: number;
  output_captured: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
};

/** Outcome of recording one status event. */
export type RecordOutcome = 'recorded' | 'duplicate' | 'unknown-job' | 'unknown-device';

/** A status event from an agent's outbox, as the sequenced frames of protocol v1 carry it. */
export type StatusEvent = StatusFrame;

/** State shared by the events of one burst from one site while they are recorded. */
type Burst = {
  siteId: string;
  /** The site's outbox id when the burst began; null before the agent's first hello. */
  outboxId: string | null;
  now: number;
  /** Whether each job of the burst was offered to the site, by job id. */
  knownJobs: Map<string, boolean>;
  /**
   * Devices each job of the burst launched on, by job id; null while the agent has not reported
   * the launch. Kept current as the burst records `job_launched` events.
   */
  launchedDevices: Map<string, ReadonlySet<string> | null>;
};

/** Deliveries of scripts to sites and the device results agents report. */
export class DeliveryRepository {
  private readonly db: Database.Database;

  /** Statements by SQL text, prepared on first use: preparing costs more than running them. */
  private readonly statements = new Map<string, Database.Statement>();

  private readonly recordTransaction: Database.Transaction<
    (siteId: string, events: readonly StatusEvent[], now: number) => RecordOutcome[]
  >;

  constructor(db: Database.Database) {
    this.db = db;
    // The transaction function is made once: making one costs more than a small transaction.
    this.recordTransaction = db.transaction(
      (siteId: string, events: readonly StatusEvent[], now: number) =>
        this.recordBurst(siteId, events, now),
    );
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }

    return statement;
  }

  /**
   * Deliveries of authorized scripts to `siteId` that are due (launch time minus `leadMs` has
   * passed), not expired, and not yet accepted or rejected.
   */
  due(siteId: string, now: number, leadMs: number): Delivery[] {
    const rows = this.prepare(
      `SELECT d.* FROM deliveries d JOIN scripts s ON s.id = d.script_id
         WHERE d.site_id = ? AND s.status = 'authorized' AND d.state IN ('waiting', 'offered')
           AND s.launch_at - ? <= ? AND s.expires_at > ?
         ORDER BY s.launch_at, s.id`,
    ).all(siteId, leadMs, now, now) as DeliveryRow[];
    return rows.map(fromDeliveryRow);
  }

  /** Earliest future time at which a waiting delivery falls due, or undefined. */
  nextDueAt(now: number, leadMs: number): number | undefined {
    const row = this.prepare(
      `SELECT MIN(s.launch_at - ?) AS due FROM deliveries d JOIN scripts s ON s.id = d.script_id
         WHERE s.status = 'authorized' AND d.state = 'waiting' AND s.launch_at - ? > ?`,
    ).get(leadMs, leadMs, now) as { due: number | null };
    return row.due ?? undefined;
  }

  /** Sites that hold a cancelled script and have not reported its verdict. */
  pendingCancels(siteId: string): string[] {
    const rows = this.prepare(
      `SELECT d.script_id FROM deliveries d JOIN scripts s ON s.id = d.script_id
         WHERE d.site_id = ? AND s.status = 'cancelled' AND d.state IN ('offered', 'accepted')
           AND d.agent_verdict IS NULL`,
    ).all(siteId) as Array<{ script_id: string }>;
    return rows.map((row) => row.script_id);
  }

  get(scriptId: string, siteId: string): Delivery | undefined {
    const row = this.prepare('SELECT * FROM deliveries WHERE script_id = ? AND site_id = ?').get(
      scriptId,
      siteId,
    ) as DeliveryRow | undefined;
    return row === undefined ? undefined : fromDeliveryRow(row);
  }

  list(scriptId: string): Delivery[] {
    const rows = this.prepare('SELECT * FROM deliveries WHERE script_id = ?').all(
      scriptId,
    ) as DeliveryRow[];
    return rows.map(fromDeliveryRow);
  }

  /** Records the first offer's exact text; later offers resend it unchanged. */
  markOffered(scriptId: string, siteId: string, offerJson: string, now: number): void {
    this.prepare(
      `UPDATE deliveries SET state = 'offered', offer_json = ?, offered_at = ?
         WHERE script_id = ? AND site_id = ? AND state = 'waiting'`,
    ).run(offerJson, now, scriptId, siteId);
  }

  /** Marks an offered delivery accepted. Returns false when no such delivery was offered. */
  markAccepted(scriptId: string, siteId: string, now: number): boolean {
    const result = this.prepare(
      `UPDATE deliveries SET state = 'accepted', accepted_at = COALESCE(accepted_at, ?)
         WHERE script_id = ? AND site_id = ? AND state IN ('offered', 'accepted')`,
    ).run(now, scriptId, siteId);
    return result.changes > 0;
  }

  markRejected(scriptId: string, siteId: string, code: ErrorCode, message: string): boolean {
    const result = this.prepare(
      `UPDATE deliveries SET state = 'rejected', reject_code = ?, reject_message = ?
         WHERE script_id = ? AND site_id = ? AND state = 'offered'`,
    ).run(code, message, scriptId, siteId);
    return result.changes > 0;
  }

  /** Highest status sequence number recorded for the site, or 0. */
  lastSeq(siteId: string): number {
    const row = this.prepare('SELECT last_seq FROM sites WHERE id = ?').get(siteId) as
      | { last_seq: number }
      | undefined;
    return row?.last_seq ?? 0;
  }

  /**
   * Records an agent's hello and returns the last sequence number held for its outbox. A new
   * outbox id starts the site's sequence numbers over at 0.
   */
  openOutbox(siteId: string, outboxId: string, now: number): number {
    this.prepare(
      `UPDATE sites SET last_contact_at = ?,
           last_seq = CASE WHEN outbox_id IS ? THEN last_seq ELSE 0 END, outbox_id = ?
         WHERE id = ?`,
    ).run(now, outboxId, outboxId, siteId);
    return this.lastSeq(siteId);
  }

  /** Records status events in order, in one transaction; returns each event's outcome. */
  recordAll(siteId: string, events: readonly StatusEvent[], now: number): RecordOutcome[] {
    return this.recordTransaction(siteId, events, now);
  }

  /**
   * Records one status event exactly once. A sequence number already recorded for the site's
   * outbox changes nothing, and a run update applies only when its revision is newer than the stored
   * one. Every outcome advances the site's last sequence number.
   */
  record(siteId: string, event: StatusEvent, now: number): RecordOutcome {
    const [outcome] = this.recordTransaction(siteId, [event], now);
    return outcome ?? 'unknown-job';
  }

  /**
   * Records a burst of events with two statements per event: the event, then its effect (a
   * launch takes one more). The site's outbox id is read once per burst, and each job's delivery
   * and launched devices once per job. The site's last sequence number is advanced once, to the
   * highest of the burst.
   */
  private recordBurst(
    siteId: string,
    events: readonly StatusEvent[],
    now: number,
  ): RecordOutcome[] {
    const site = this.prepare('SELECT outbox_id FROM sites WHERE id = ?').get(siteId) as
      | { outbox_id: string | null }
      | undefined;
    const burst: Burst = {
      siteId,
      outboxId: site?.outbox_id ?? null,
      now,
      knownJobs: new Map(),
      launchedDevices: new Map(),
    };
    let highestSeq = 0;
    const outcomes = events.map((event) => {
      highestSeq = Math.max(highestSeq, event.seq);
      return this.recordOne(burst, event);
    });

    this.prepare('UPDATE sites SET last_seq = MAX(last_seq, ?) WHERE id = ?').run(
      highestSeq,
      siteId,
    );
    return outcomes;
  }

  private recordOne(burst: Burst, event: StatusEvent): RecordOutcome {
    const { siteId, now } = burst;
    const jobId = event.type === 'run_status' ? event.run.jobId : event.jobId;
    if (!this.isOffered(burst, jobId)) {
      return 'unknown-job';
    }

    if (event.type === 'run_status' && !this.wasLaunchedOn(burst, jobId, event.run.deviceId)) {
      return 'unknown-device';
    }

    const inserted = this.prepare(
      `INSERT OR IGNORE INTO status_events (site_id, outbox_id, seq, kind, script_id, device_id,
           revision, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      siteId,
      burst.outboxId,
      event.seq,
      event.type,
      jobId,
      event.type === 'run_status' ? event.run.deviceId : null,
      event.type === 'run_status' ? event.run.revision : null,
      now,
    );
    if (inserted.changes === 0) {
      return 'duplicate';
    }

    this.apply(burst, event);
    return 'recorded';
  }

  /**
   * Returns whether the job was offered to the burst's site, querying once per job and burst.
   * Recording events only ever moves a delivery to `accepted`, so the result stays valid for
   * the whole burst.
   */
  private isOffered(burst: Burst, jobId: string): boolean {
    let offered = burst.knownJobs.get(jobId);
    if (offered === undefined) {
      const row = this.prepare(
        `SELECT 1 FROM deliveries WHERE script_id = ? AND site_id = ?
             AND state IN ('offered', 'accepted')`,
      ).get(jobId, burst.siteId);
      offered = row !== undefined;
      burst.knownJobs.set(jobId, offered);
    }

    return offered;
  }

  /**
   * Returns whether the agent launched the job on the device. Before the agent reports the
   * launch, every device passes: the runs recorded then for devices the launch leaves out are
   * removed when `job_launched` arrives.
   */
  private wasLaunchedOn(burst: Burst, jobId: string, deviceId: string): boolean {
    const devices = this.launchedDevices(burst, jobId);
    return devices === null || devices.has(deviceId);
  }

  /** Returns the devices the job was launched on, null before any launch, cached per burst. */
  private launchedDevices(burst: Burst, jobId: string): ReadonlySet<string> | null {
    let devices = burst.launchedDevices.get(jobId);
    if (devices === undefined) {
      const row = this.prepare(
        'SELECT launched_device_ids FROM deliveries WHERE script_id = ? AND site_id = ?',
      ).get(jobId, burst.siteId) as { launched_device_ids: string | null } | undefined;
      const ids = row?.launched_device_ids ?? null;
      devices = ids === null ? null : new Set(JSON.parse(ids) as string[]);
      burst.launchedDevices.set(jobId, devices);
    }

    return devices;
  }

  /**
   * Records a launch. The launched devices are the union of every launch reported for the job
   * (a replaced agent store may launch it again), so no recorded run of an earlier launch is
   * lost. Runs of devices outside the union, recorded before any launch, are removed.
   */
  private recordLaunch(burst: Burst, event: Extract<StatusEvent, { type: 'job_launched' }>): void {
    const devices = new Set([
      ...(this.launchedDevices(burst, event.jobId) ?? []),
      ...event.deviceIds,
    ]);
    const ids = JSON.stringify([...devices]);
    this.prepare(
      `UPDATE deliveries SET state = 'accepted', launched_at = COALESCE(launched_at, ?),
           launched_device_ids = ?
         WHERE script_id = ? AND site_id = ?`,
    ).run(event.launchedAt, ids, event.jobId, burst.siteId);
    this.prepare(
      `DELETE FROM device_results WHERE script_id = ? AND site_id = ?
         AND device_id NOT IN (SELECT value FROM json_each(?))`,
    ).run(event.jobId, burst.siteId, ids);
    burst.launchedDevices.set(event.jobId, devices);
  }

  private apply(burst: Burst, event: StatusEvent): void {
    const { siteId, now } = burst;
    switch (event.type) {
      case 'job_stored':
        this.markAccepted(event.jobId, siteId, now);
        return;
      case 'job_launched':
        this.recordLaunch(burst, event);
        return;
      case 'run_status':
        this.upsertResult(siteId, event.run, now);
        return;
      case 'job_verdict':
        // The first verdict stays. The agent writes it once every run is final, and an older
        // run revision never overwrites a newer one, so a later outbox repeating the job (after
        // the agent's store was replaced) cannot change the runs the verdict follows.
        this.prepare(
          `UPDATE deliveries SET state = 'accepted', agent_verdict = COALESCE(agent_verdict, ?),
               verdict_at = COALESCE(verdict_at, ?)
             WHERE script_id = ? AND site_id = ?`,
        ).run(event.verdict, now, event.jobId, siteId);
        return;
    }
  }

  /** Number of status events recorded for a script on a site, for audits and tests. */
  countEvents(scriptId: string, siteId: string): number {
    const row = this.prepare(
      'SELECT COUNT(*) AS count FROM status_events WHERE script_id = ? AND site_id = ?',
    ).get(scriptId, siteId) as { count: number };
    return row.count;
  }

  results(scriptId: string, siteId: string): DeviceResult[] {
    const rows = this.prepare(
      'SELECT * FROM device_results WHERE script_id = ? AND site_id = ? ORDER BY device_id',
    ).all(scriptId, siteId) as ResultRow[];
    return rows.map(fromResultRow);
  }

  private upsertResult(siteId: string, run: RunReport, now: number): void {
    this.prepare(
      `INSERT INTO device_results (script_id, site_id, device_id, state, revision, reason_code,
           reason_message, error_line, error_column, output, output_truncated, output_bytes,
           output_captured, started_at, finished_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (script_id, site_id, device_id) DO UPDATE SET
           state = excluded.state, revision = excluded.revision,
           reason_code = excluded.reason_code, reason_message = excluded.reason_message,
           error_line = excluded.error_line, error_column = excluded.error_column,
           output = excluded.output, output_truncated = excluded.output_truncated,
           output_bytes = excluded.output_bytes, output_captured = excluded.output_captured,
           started_at = excluded.started_at, finished_at = excluded.finished_at,
           updated_at = excluded.updated_at
         WHERE excluded.revision > device_results.revision`,
    ).run(
      run.jobId,
      siteId,
      run.deviceId,
      run.state,
      run.revision,
      run.reasonCode ?? null,
      run.reasonMessage ?? null,
      run.errorLine ?? null,
      run.errorColumn ?? null,
      run.output ?? null,
      run.outputTruncated ? 1 : 0,
      run.outputBytes,
      run.outputCaptured ? 1 : 0,
      run.startedAt ?? null,
      run.finishedAt ?? null,
      now,
    );
  }
}

function fromDeliveryRow(row: DeliveryRow): Delivery {
  return {
    scriptId: row.script_id,
    siteId: row.site_id,
    state: row.state,
    ...(row.offer_json === null ? {} : { offerJson: row.offer_json }),
    ...(row.offered_at === null ? {} : { offeredAt: row.offered_at }),
    ...(row.accepted_at === null ? {} : { acceptedAt: row.accepted_at }),
    ...(row.reject_code === null ? {} : { rejectCode: row.reject_code }),
    ...(row.reject_message === null ? {} : { rejectMessage: row.reject_message }),
    ...(row.launched_at === null ? {} : { launchedAt: row.launched_at }),
    ...(row.launched_device_ids === null
      ? {}
      : { launchedDeviceIds: JSON.parse(row.launched_device_ids) as string[] }),
    ...(row.agent_verdict === null ? {} : { agentVerdict: row.agent_verdict }),
    ...(row.verdict_at === null ? {} : { verdictAt: row.verdict_at }),
  };
}

function fromResultRow(row: ResultRow): DeviceResult {
  return {
    deviceId: row.device_id,
    state: row.state,
    revision: row.revision,
    ...(row.reason_code === null ? {} : { reasonCode: row.reason_code }),
    ...(row.reason_message === null ? {} : { reasonMessage: row.reason_message }),
    ...(row.error_line === null ? {} : { errorLine: row.error_line }),
    ...(row.error_column === null ? {} : { errorColumn: row.error_column }),
    ...(row.output === null ? {} : { output: row.output }),
    outputTruncated: row.output_truncated === 1,
    outputBytes: row.output_bytes,
    outputCaptured: row.output_captured === 1,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    updatedAt: row.updated_at,
  };
}
