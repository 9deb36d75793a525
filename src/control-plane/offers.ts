import { signJobOffer } from '../protocol/job-offer.js';
import type { SigningKey } from '../protocol/signing.js';
import type { ScheduledScript } from './types.js';

/**
 * Builds the signed `job_offer` frame text of a script for one site. The job id is the
 * script id, and the targets are every device of the site, because the Scripts API selects
 * sites, not devices.
 */
export function buildOfferFrame(script: ScheduledScript, siteId: string, key: SigningKey): string {
  if (script.authorizedBy === undefined || script.authorizedAt === undefined) {
    throw new Error(`Script ${script.id} is not authorized, so it cannot be offered`);
  }

  const job = signJobOffer(
    {
      id: script.id,
      siteId,
      description: script.description,
      script: script.script,
      targets: 'all',
      launchAt: script.launchAt,
      expiresAt: script.expiresAt,
      makeBackup: script.makeBackup,
      limits: {},
      authorization: { authorizedBy: script.authorizedBy, authorizedAt: script.authorizedAt },
    },
    key,
  );

  return JSON.stringify({ type: 'job_offer', job });
}
