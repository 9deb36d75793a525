// A child process for the crash test: opens the store, recovers, accepts the job given on the
// command line (if any), runs everything pending through the device's transport and exits 0 once
// the runner is idle. The test kills the first such child with SIGKILL part way through.
import { readFileSync } from 'node:fs';

import { systemClock } from '../../src/clock.js';
import { readDeviceCredentials } from '../../src/config/secrets.js';
import { openSession } from '../../src/devices/open-session.js';
import type { DeviceConfig } from '../../src/devices/types.js';
import { Runner } from '../../src/jobs/runner.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import type { Job } from '../../src/jobs/types.js';
import { createLogger } from '../../src/logging.js';
import { Store } from '../../src/store/store.js';
import { TEST_LIMITS } from '../support/job-engine.js';

const [storeFile, inventoryFile, jobFile] = process.argv.slice(2);
if (storeFile === undefined || inventoryFile === undefined) {
  process.stderr.write('usage: crash-child STORE_FILE INVENTORY_FILE [JOB_FILE]\n');
  process.exit(2);
}

const logger = createLogger({ name: 'crash-child', level: 'error' });
const devices = JSON.parse(readFileSync(inventoryFile, 'utf8')) as DeviceConfig[];
const store = Store.open(storeFile);
const runner = new Runner({
  store,
  devices,
  openSession,
  readCredentials: readDeviceCredentials,
  clock: systemClock,
  logger,
  limits: {
    ...TEST_LIMITS,
    connectTimeoutMs: 20_000,
    commandTimeoutMs: 20_000,
    runTimeoutMs: 60_000,
  },
});
const scheduler = new Scheduler({ store, runner, clock: systemClock, logger });

const recovered = scheduler.start();
process.stdout.write(`${JSON.stringify({ started: recovered })}\n`);

if (jobFile !== undefined) {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as Job;
  scheduler.accept({ ...job, receivedAt: systemClock.now() });
}

await runner.whenIdle();
scheduler.stop();
await runner.stop();
store.close();
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
