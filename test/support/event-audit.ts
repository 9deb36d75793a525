/** One status event as the control plane's `status_events` table records it. */
export type RecordedEvent = {
  outboxId: string;
  scriptId: string;
  seq: number;
  kind: string;
  deviceId: string | null;
  revision: number | null;
};

/** What the recorded status events of one script show about repeats and gaps. */
export type EventAudit = {
  /** Events of each kind for the script. */
  counts: Record<string, number>;
  /** `device@revision` of run updates recorded more than once under different numbers. */
  repeatedRevisions: string[];
  /** Highest run revision recorded per device. */
  lastRevisions: Record<string, number>;
  /** Sequence numbers of the script's outbox missing between 1 and the highest recorded. */
  missingSeqs: number[];
};

/** Audits the events `recordedEvents` returned for `scriptId`. */
export function auditEvents(events: readonly RecordedEvent[], scriptId: string): EventAudit {
  const own = events.filter((event) => event.scriptId === scriptId);
  const counts: Record<string, number> = {};
  const seen = new Set<string>();
  const repeatedRevisions: string[] = [];
  const lastRevisions: Record<string, number> = {};
  for (const event of own) {
    counts[event.kind] = (counts[event.kind] ?? 0) + 1;
    if (event.kind !== 'run_status' || event.deviceId === null || event.revision === null) {
      continue;
    }

    const key = `${event.deviceId}@${event.revision}`;
    if (seen.has(key)) {
      repeatedRevisions.push(key);
    }

    seen.add(key);
    lastRevisions[event.deviceId] = Math.max(lastRevisions[event.deviceId] ?? 0, event.revision);
  }

  const outboxId = own[0]?.outboxId;
  const seqs = new Set(
    events.filter((event) => event.outboxId === outboxId).map((event) => event.seq),
  );
  const highest = Math.max(0, ...seqs);
  const missingSeqs = Array.from({ length: highest }, (_, index) => index + 1).filter(
    (seq) => !seqs.has(seq),
  );
  return { counts, repeatedRevisions, lastRevisions, missingSeqs };
}
