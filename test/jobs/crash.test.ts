import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/clock.js';
import { FINAL_RUN_STATES, type Run } from '../../src/jobs/types.js';
import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import { RouterOsDevice } from '../../src/simulator/model/device.js';
import { Store } from '../../src/store/store.js';
import { countedScript, RUN_COUNTER } from '../support/fleet-engine.js';
import { makeJob } from '../support/jobs.js';
import { makeStoreDirectory } from '../support/temp-store.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LOADER = path.join(ROOT, 'test/support/typescript-loader.mjs');
const CHILD = path.join(ROOT, 'test/jobs/crash-child.ts');
const DEVICES = 300;

let fleet: Fleet | undefined;
const children: ChildProcess[] = [];
const directory = makeStoreDirectory();

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }

  await fleet?.close();
  directory.remove();
});

function startChild(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', LOADER, CHILD, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  children.push(child);
  return child;
}

/** Runs of the counted script on each device, as the simulated devices counted them. */
function scriptRuns(current: Fleet): number[] {
  return current.devices.map((device) => {
    const value =
      device.model instanceof RouterOsDevice ? device.model.globals.get(RUN_COUNTER) : undefined;
    return value?.type === 'num' ? Number(value.value) : 0;
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }

    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('crash and restart', () => {
  it('loses nothing and runs nothing twice', { timeout: 240_000 }, async () => {
    fleet = await startFleet({ devices: DEVICES, defaults: { transport: 'api' } });
    const inventoryFile = path.join(directory.dir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(fleet.inventory()));
    const now = systemClock.now();
    const job = makeJob({
      targets: 'all',
      script: countedScript(':delay 200ms\r\n:put "done"'),
      launchAt: now,
      expiresAt: now + 3_600_000,
    });
    const jobFile = path.join(directory.dir, 'job.json');
    writeFileSync(jobFile, JSON.stringify(job));
    const current = fleet;

    const first = startChild([directory.file, inventoryFile, jobFile]);
    await waitFor(
      () => scriptRuns(current).reduce((sum, count) => sum + count, 0) >= DEVICES / 4,
      120_000,
    );
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = startChild([directory.file, inventoryFile]);
    const [code] = (await once(second, 'exit')) as [number | null];
    expect(code).toBe(0);

    const store = Store.open(directory.file);
    try {
      const runs = store.runs.list(job.id);
      const events = store.outbox.read(0, 100_000).map((entry) => entry.event);
      const counts = scriptRuns(current);
      const interrupted = runs.filter((run) => run.state === 'interrupted');

      expect(runs).toHaveLength(DEVICES);
      expect(runs.every((run) => FINAL_RUN_STATES.has(run.state))).toBe(true);
      expect(Math.max(...counts)).toBe(1);
      expect(Math.max(...current.devices.map((device) => device.model.executions))).toBe(1);
      expect(interrupted.length).toBeGreaterThan(0);
      expect(interrupted.every((run) => run.reasonCode === 'INTERRUPTED')).toBe(true);
      expect(runs.filter((run) => run.state === 'succeeded').length).toBe(
        DEVICES - interrupted.length,
      );
      expect(store.jobs.get(job.id)?.verdict).toBe('failed');

      const runEvents = new Map<string, Run[]>();
      for (const event of events) {
        if (event.type === 'run.updated') {
          runEvents.set(event.run.deviceId, [
            ...(runEvents.get(event.run.deviceId) ?? []),
            event.run,
          ]);
        }
      }

      for (const run of runs) {
        const history = runEvents.get(run.deviceId) ?? [];
        const revisions = history.map((item) => item.revision);
        expect(revisions).toEqual(
          Array.from({ length: run.revision - 1 }, (_, index) => index + 2),
        );
        expect(history.at(-1)?.state).toBe(run.state);
      }

      expect(events.filter((event) => event.type === 'job.accepted')).toHaveLength(1);
      expect(events.filter((event) => event.type === 'job.launched')).toHaveLength(1);
      expect(events.filter((event) => event.type === 'job.verdict')).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});
