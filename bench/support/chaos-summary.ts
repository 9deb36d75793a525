import type { ChaosEvidence, Violation } from './chaos-checks.js';
import type { FaultTally } from './chaos-faults.js';
import { counterName } from './chaos-script.js';
import type { SiteSettings } from './chaos-site.js';

/** Violations printed in full; the rest are counted. */
const PRINTED_VIOLATIONS = 40;

export type ChaosSummary = {
  options: { seed: number; jobs: number; minutes: number; devices: number };
  settings: SiteSettings;
  faults: FaultTally;
  evidence: ChaosEvidence;
  violations: readonly Violation[];
  /** Lines about expected events worth knowing, such as exits on a full disk. */
  notes: readonly string[];
  dir: string;
};

/** Prints what the run did, what it found and how to repeat it, on standard output. */
export function printSummary(summary: ChaosSummary): void {
  const { options, evidence, violations } = summary;
  const states = new Map<string, number>();
  const ranUnfinished = new Map<string, number>();
  for (const { job, runs } of evidence.agent.jobs.values()) {
    const number = evidence.jobs.find((planned) => planned.scriptId === job.id)?.number ?? 0;
    for (const run of runs) {
      states.set(run.state, (states.get(run.state) ?? 0) + 1);
      const ran = evidence.counts[run.deviceId]?.[counterName(number)] ?? 0;
      if (ran > 0 && run.state !== 'succeeded' && run.reasonCode !== 'SCRIPT_FAILED') {
        const key = `${run.state} ${run.reasonCode ?? ''}`.trim();
        ranUnfinished.set(key, (ranUnfinished.get(key) ?? 0) + 1);
      }
    }
  }

  const scriptRuns = Object.values(evidence.counts)
    .flatMap((counters) => Object.values(counters))
    .reduce((sum, count) => sum + count, 0);
  const lines = [
    '',
    `chaos run, seed ${options.seed}: ${options.jobs} jobs, ${options.devices} devices, ${options.minutes} min`,
    `settings: ${JSON.stringify(summary.settings)}`,
    `faults: ${formatCounts(Object.entries(summary.faults))}`,
    `jobs stored by the agent: ${evidence.agent.jobs.size} of ${evidence.jobs.length}`,
    `runs: ${formatCounts([...states.entries()])}`,
    `script runs counted on the devices: ${scriptRuns}`,
    `runs whose script ran without ending on its own: ${formatCounts([...ranUnfinished.entries()]) || 'none'}`,
    `status events recorded: ${evidence.events.length}, outbox last seq ${evidence.agent.lastSeq}`,
    ...summary.notes,
    '',
    violations.length === 0 ? 'no violations' : `${violations.length} violations:`,
    ...violations.slice(0, PRINTED_VIOLATIONS).map(formatViolation),
  ];
  if (violations.length > PRINTED_VIOLATIONS) {
    lines.push(`  ... and ${violations.length - PRINTED_VIOLATIONS} more`);
  }

  lines.push(
    '',
    `repeat: node dist/bench/chaos.js --seed ${options.seed} --jobs ${options.jobs} --minutes ${options.minutes} --devices ${options.devices}`,
    '',
  );
  process.stdout.write(lines.join('\n'));
}

function formatCounts(entries: ReadonlyArray<[string, number]>): string {
  return entries.map(([name, count]) => `${name} ${count}`).join(', ');
}

function formatViolation(violation: Violation): string {
  const where = [violation.job === undefined ? '' : `job ${violation.job}`, violation.device ?? '']
    .filter((part) => part !== '')
    .join(' on ');
  return `  [${violation.kind}] ${where === '' ? '' : `${where}: `}${violation.what}`;
}
