import type { RunReport } from '../../src/protocol/messages.js';

/** Builds a run report with defaults for the fields a test does not care about. */
export function runReport(
  jobId: string,
  deviceId: string,
  overrides: Partial<RunReport> = {},
): RunReport {
  return {
    jobId,
    deviceId,
    state: 'succeeded',
    revision: 3,
    output: 'done',
    outputTruncated: false,
    outputBytes: 4,
    outputCaptured: true,
    startedAt: Date.parse('2026-01-01T00:00:00Z'),
    finishedAt: Date.parse('2026-01-01T00:00:01Z'),
    ...overrides,
  };
}
