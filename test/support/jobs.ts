import { randomUUID } from 'node:crypto';

import type { Job } from '../../src/jobs/types.js';
import { TEST_SITE_ID } from './config-files.js';

/** Start of the manual clock's default epoch, 2026-01-01T00:00:00Z. */
export const TEST_EPOCH = Date.parse('2026-01-01T00:00:00Z');

/** Builds a job for this site that launches at TEST_EPOCH and expires an hour later. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: randomUUID(),
    siteId: TEST_SITE_ID,
    description: 'test job',
    script: ':put "hello"',
    targets: ['r1', 'r2'],
    launchAt: TEST_EPOCH,
    expiresAt: TEST_EPOCH + 60 * 60 * 1000,
    makeBackup: false,
    limits: {},
    authorization: {
      authorizedBy: 'operator@example.net',
      authorizedAt: TEST_EPOCH - 60_000,
      keyId: 'test-key',
      signature: 'dGVzdCBzaWduYXR1cmU=',
    },
    receivedAt: TEST_EPOCH - 1000,
    ...overrides,
  };
}
