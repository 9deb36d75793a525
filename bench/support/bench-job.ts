import { randomUUID } from 'node:crypto';

import type { Job } from '../../src/jobs/types.js';

/** Site id of every benchmark job. */
export const BENCH_SITE_ID = '00000000-0000-4000-8000-000000000001';

/**
 * Builds a job for every device of the inventory, launching at `now` and expiring an hour
 * later. Its signature is a placeholder: the uplink verifies signatures, not the runner or the
 * store, and the benchmarks that include the uplink sign their jobs for real.
 */
export function benchmarkJob(script: string, now: number): Job {
  return {
    id: randomUUID(),
    siteId: BENCH_SITE_ID,
    description: 'benchmark job',
    script,
    targets: 'all',
    launchAt: now,
    expiresAt: now + 60 * 60 * 1000,
    makeBackup: false,
    limits: {},
    authorization: {
      authorizedBy: 'benchmark',
      authorizedAt: now,
      keyId: '0000000000000000',
      signature: 'YmVuY2htYXJr',
    },
    receivedAt: now,
  };
}
