/**
 * Chaos driver: runs a whole site on loopback, with the reference control plane, a simulated
 * fleet and the agent each in a process of its own. It schedules many jobs through the Scripts
 * API. Meanwhile it kills, stops and restarts the agent, restarts the control plane, and reboots
 * and disconnects devices at random moments. Once everything settled it checks that every script
 * ran at most once per device, that every run reached a final state in the agent's store and
 * at the control plane, and that both agree. Exits 1 on any violation.
 *
 * Usage: npm run build && node dist/bench/chaos.js [--seed N] [--jobs N] [--minutes N]
 *          [--devices N] [--keep] [--disk-full]
 *
 * --disk-full puts the agent's store on a tmpfs of its own and fills it now and then; mounting
 * it needs root.
 */
import { appendFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { type ChaosEvidence, checkChaosRun, type Violation } from './support/chaos-checks.js';
import { SmallDisk } from './support/chaos-disk.js';
import { gatherEvidence } from './support/chaos-evidence.js';
import { FaultLoop } from './support/chaos-faults.js';
import { ChaosFleet, planFleet } from './support/chaos-fleet.js';
import { createJobs, planJobs, runJobTimeline } from './support/chaos-jobs.js';
import { sleep } from './support/chaos-program.js';
import { SeededRandom } from './support/chaos-random.js';
import { ChaosSite, type SiteSettings } from './support/chaos-site.js';
import { printSummary } from './support/chaos-summary.js';

type Options = {
  seed: number;
  jobs: number;
  minutes: number;
  devices: number;
  keep: boolean;
  diskFull: boolean;
};

/** Size of the tmpfs that `--disk-full` puts the agent's store on, in MiB. */
const DISK_MIB = 32;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      jobs: { type: 'string', default: '60' },
      minutes: { type: 'string', default: '5' },
      devices: { type: 'string', default: '24' },
      keep: { type: 'boolean', default: false },
      'disk-full': { type: 'boolean', default: false },
    },
  });
  const number = (text: string, flag: string, min: number): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) {
      throw new Error(`${flag} must be a number of at least ${min}, got "${text}"`);
    }

    return value;
  };

  return {
    seed: values.seed === undefined ? Date.now() % 1_000_000 : number(values.seed, '--seed', 0),
    jobs: number(values.jobs, '--jobs', 1),
    minutes: number(values.minutes, '--minutes', 0.5),
    devices: number(values.devices, '--devices', 3),
    keep: values.keep,
    diskFull: values['disk-full'],
  };
}

/** Chooses the site's settings from the seed: offer lead and the agent's run limits. */
function planSettings(random: SeededRandom): SiteSettings {
  return {
    leadSeconds: random.pick([0, 5, 20, 60]),
    runs: {
      concurrency: random.integer(4, 10),
      connectTimeoutMs: 2_000,
      commandTimeoutMs: 4_000,
      runTimeoutMs: random.integer(15_000, 30_000),
      shutdownDrainMs: random.integer(500, 3_000),
    },
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-chaos-'));
  const began = Date.now();
  const log = (line: string): void => {
    const stamped = `[${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}`;
    appendFileSync(path.join(dir, 'driver.log'), `${stamped}\n`);
    process.stderr.write(`${stamped}\n`);
  };
  log(`seed ${options.seed}, ${options.jobs} jobs, ${options.minutes} min, files in ${dir}`);

  const settings = planSettings(new SeededRandom(options.seed));
  const disk = options.diskFull
    ? await SmallDisk.mount(path.join(dir, 'disk'), DISK_MIB)
    : undefined;
  if (disk !== undefined) {
    settings.storeDir = disk.mountPoint;
  }

  const fleet = await ChaosFleet.start(
    planFleet(options.devices, new SeededRandom(options.seed + 1)),
    path.join(dir, 'simulator'),
  );
  const site = await ChaosSite.start(dir, settings, fleet.inventory);
  let violations: Violation[] = [];
  try {
    await site.ensureAgent();
    log(`site up: ${JSON.stringify(settings)}`);
    const periodMs = options.minutes * 60_000;
    const startAt = Date.now() + 10_000;
    const planned = planJobs(options.jobs, periodMs, new SeededRandom(options.seed + 2));
    const jobs = await createJobs(site, planned, startAt, settings.leadSeconds * 1000);
    log(`${jobs.length} jobs created`);

    const faults = new FaultLoop({
      site,
      fleet,
      random: new SeededRandom(options.seed + 3),
      log,
      ...(disk === undefined ? {} : { disk }),
    });
    const timeline = new AbortController();
    await Promise.all([
      runJobTimeline(site, jobs, startAt, log, timeline.signal),
      faults.run(startAt + periodMs).finally(() => timeline.abort()),
    ]);
    log(`chaos over: ${JSON.stringify(faults.tally)}`);

    const lastExpiry = Math.max(...jobs.map((job) => job.expiresAt));
    const settled = await settle(site, jobs, Math.max(lastExpiry, Date.now()) + 180_000, log);
    const evidence = await gatherEvidence(site, fleet, jobs);
    await keepEvidence(dir, site, evidence);
    violations = [
      ...(settled ? [] : [{ kind: 'not-final' as const, what: 'the site did not settle in time' }]),
      ...checkChaosRun(evidence),
      ...site.surprises.map((what) => ({ kind: 'process' as const, what })),
    ];
    const openOffers = jobs.filter(
      (job) => evidence.controlPlane.get(job.scriptId)?.delivery?.state === 'offered',
    );
    const notes = [
      `agent starts that exited 1 on a full disk: ${site.fullDiskExits}`,
      `offers never stored nor rejected: ${openOffers.map((job) => job.number).join(', ') || 'none'}`,
    ];
    printSummary({ options, settings, faults: faults.tally, evidence, violations, notes, dir });
  } finally {
    await site.close();
    await fleet.close();
    await disk?.unmount();
  }

  if (violations.length === 0 && !options.keep) {
    await rm(dir, { recursive: true, force: true });
  } else {
    process.stderr.write(`files kept in ${dir}\n`);
  }

  return violations.length === 0 ? 0 : 1;
}

/**
 * Waits until the control plane reports a final verdict for every job and the agent has
 * nothing queued, running or unsent, or until `deadline`. Returns whether it settled.
 */
async function settle(
  site: ChaosSite,
  jobs: ReadonlyArray<{ scriptId: string }>,
  deadline: number,
  log: (line: string) => void,
): Promise<boolean> {
  let waiting = jobs.length;
  while (Date.now() < deadline) {
    await site.ensureAgent();
    const status = await site.agentStatus();
    waiting = await countPending(site, jobs);

    const idle =
      status?.uplink.connected === true &&
      status.outboxDepth === 0 &&
      status.queueDepth === 0 &&
      status.runningRuns === 0;
    if (waiting === 0 && idle) {
      log('settled');
      return true;
    }

    await sleep(2_000);
  }

  log(`did not settle: ${waiting} jobs still pending at the control plane`);
  return false;
}

/**
 * Writes the devices' run counts and the job numbers to `dir`, and copies the agent's store
 * there when it lives on the tmpfs, which is unmounted at the end, so a kept run can be examined.
 */
async function keepEvidence(dir: string, site: ChaosSite, evidence: ChaosEvidence): Promise<void> {
  const jobs = Object.fromEntries(evidence.jobs.map((job) => [job.scriptId, job.number]));
  await writeFile(
    path.join(dir, 'evidence.json'),
    JSON.stringify({ counts: evidence.counts, jobs }),
  );
  if (path.dirname(site.storeFile) !== dir) {
    await copyFile(site.storeFile, path.join(dir, 'agent.db'));
  }
}

/** Counts the jobs the control plane reports as pending, or cannot report on. */
async function countPending(
  site: ChaosSite,
  jobs: ReadonlyArray<{ scriptId: string }>,
): Promise<number> {
  let pending = 0;
  for (const job of jobs) {
    try {
      const progress = await site.api('GET', `/scripts/scheduled/${job.scriptId}/progress`);
      const sites = (progress.body as { pending?: string[] } | undefined)?.pending ?? [];
      pending += progress.status !== 200 || sites.length > 0 ? 1 : 0;
    } catch {
      pending += 1;
    }
  }

  return pending;
}

// The exit is explicit: after a failure the fault loop and the job timeline may still be
// running, and the exit handlers kill every child left and unmount the tmpfs.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
