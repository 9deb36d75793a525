/**
 * Compares the idle memory of several builds of the daemon, such as main's and a branch's, by
 * running them side by side. Each round starts one daemon of every build at the same time, each
 * with its own control plane and store but the same simulated fleet and configuration, and reads
 * its memory once it has been connected for the settle time. Runs side by side see the same load,
 * so their medians compare better than runs minutes apart.
 *
 * Usage: node dist/bench/footprint-compare.js [--rounds N] [--settle-ms MS] NAME=SCRIPT...
 *   SCRIPT is the `dist/src/cli/edge-agent.js` of a build, such as a `git archive` of main
 *   built with `npx tsc -p tsconfig.build.json`, with this repository's node_modules linked.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { writeAgentConfig } from './footprint.js';
import { type ControlPlaneProcess, startControlPlane } from './support/control-plane-process.js';
import { sampleMemory, sleep, startDaemon, waitForStatus } from './support/daemon.js';
import { type Log, MIB, median, round } from './support/report.js';
import { startSimulator } from './support/simulator.js';

/** One build of the daemon. Without `script`, the build of this repository. */
export type Variant = { name: string; script?: string };

export type CompareParams = {
  devices: number;
  rounds: number;
  /** Time from the uplink's connection to the memory readings, in milliseconds. */
  settleMs: number;
  /** Memory readings taken 200 ms apart, of which the median is kept. */
  readings: number;
  variants: readonly Variant[];
};

/** Memory of one variant in each round, in MiB. */
export type VariantMemory = { name: string; rss: number[]; anonymous: number[] };

/** Runs every round and returns each variant's memory, in the order of `params.variants`. */
export async function compareFootprints(params: CompareParams, log: Log): Promise<VariantMemory[]> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'bench-footprint-compare-'));
  const simulator = await startSimulator({ devices: params.devices });
  const controlPlanes: ControlPlaneProcess[] = [];

  try {
    const sites = [];
    for (const variant of params.variants) {
      const siteDirectory = path.join(directory, variant.name);
      mkdirSync(siteDirectory);
      const controlPlane = await startControlPlane(siteDirectory);
      controlPlanes.push(controlPlane);
      const configFile = writeAgentConfig(siteDirectory, controlPlane, simulator.inventory);
      sites.push({ variant, siteDirectory, configFile });
    }

    const results = params.variants.map((variant) => ({
      name: variant.name,
      rss: [] as number[],
      anonymous: [] as number[],
    }));
    for (let index = 0; index < params.rounds; index++) {
      log(`footprint-compare: round ${index + 1} of ${params.rounds}`);
      const samples = await Promise.all(
        sites.map((site) =>
          settledMemory(site.variant, site.configFile, site.siteDirectory, params),
        ),
      );
      for (const [position, sample] of samples.entries()) {
        results[position]?.rss.push(round(sample.rss / MIB));
        results[position]?.anonymous.push(round(sample.anonymous / MIB));
      }
    }

    return results;
  } finally {
    for (const controlPlane of controlPlanes) {
      await controlPlane.close();
    }

    await simulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Starts one daemon, reads its memory `settleMs` after it connected, and stops it. */
async function settledMemory(
  variant: Variant,
  configFile: string,
  directory: string,
  params: CompareParams,
) {
  const daemon = startDaemon(configFile, path.join(directory, 'agent.log'), variant.script);
  try {
    const statusUrl = await daemon.statusUrl();
    await waitForStatus(statusUrl, '/status', daemon.child, (body) =>
      body.includes('"connected": true'),
    );
    await sleep(params.settleMs);
    return await sampleMemory(daemon.child.pid ?? 0, params.readings);
  } finally {
    await daemon.stop();
  }
}

/** Formats each variant's median and its rounds. */
export function formatComparison(results: readonly VariantMemory[]): string {
  return results
    .map(
      (result) =>
        `${result.name}: RSS median ${round(median(result.rss))} MiB (${result.rss.join(', ')}), ` +
        `anonymous median ${round(median(result.anonymous))} MiB`,
    )
    .join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '4' },
      'settle-ms': { type: 'string', default: '60000' },
    },
  });
  const variants = positionals.map((argument) => {
    const [name, script] = argument.split('=');
    if (name === undefined || script === undefined || name === '') {
      throw new Error(
        `invalid argument "${argument}"; expected NAME=SCRIPT, such as main=/tmp/main/dist/src/cli/edge-agent.js`,
      );
    }

    return { name, script: path.resolve(script) };
  });

  const results = await compareFootprints(
    {
      devices: 1000,
      rounds: Number(values.rounds),
      settleMs: Number(values['settle-ms']),
      readings: 10,
      variants,
    },
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(`${formatComparison(results)}\n`);
}

// Runs only as a script: the tests import compareFootprints.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `footprint-compare: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
