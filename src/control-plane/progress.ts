import { decideVerdict, type JobVerdict } from '../jobs/types.js';
import type { Delivery, DeviceResult, ScheduledScript, ScriptProgress } from './types.js';

/**
 * Decides one site's verdict for a script. The agent's verdict event marks the moment every
 * run on the site is final; from then on `decideVerdict` over the recorded device results
 * decides (the outbox sends each run's last state before the verdict). Before that the site
 * is `pending`, unless it can no longer run: the agent rejected the offer, or the script was
 * cancelled or expired before the agent accepted it, which all count as `failed`.
 */
export function siteVerdict(
  script: ScheduledScript,
  delivery: Delivery | undefined,
  results: readonly DeviceResult[],
  now: number,
): JobVerdict {
  if (delivery?.state === 'rejected') {
    return 'failed';
  }

  if (delivery?.agentVerdict !== undefined) {
    return decideVerdict(results.map((result) => result.state));
  }

  const held = delivery?.state === 'accepted';
  if (!held && (script.status === 'cancelled' || script.expiresAt <= now)) {
    return 'failed';
  }

  return 'pending';
}

/** Groups a script's sites by verdict, each list in the script's site order. */
export function scriptProgress(
  script: ScheduledScript,
  deliveries: readonly Delivery[],
  resultsOf: (siteId: string) => readonly DeviceResult[],
  now: number,
): ScriptProgress {
  const bySite = new Map(deliveries.map((delivery) => [delivery.siteId, delivery]));
  const progress: ScriptProgress = { completed: [], failed: [], pending: [] };

  for (const siteId of script.sites) {
    const verdict = siteVerdict(script, bySite.get(siteId), resultsOf(siteId), now);
    progress[verdict].push(siteId);
  }

  return progress;
}
