import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Clock, systemClock } from '../../src/clock.js';
import type { Job } from '../../src/jobs/types.js';
import type { VerificationKey } from '../../src/protocol/signing.js';
import { Store } from '../../src/store/store.js';
import { UplinkClient, type UplinkOptions } from '../../src/uplink/client.js';

/** Device ids of the test agent's inventory. */
export const TEST_DEVICES = ['router-1', 'router-2'] as const;

/** An uplink client with the agent's real store on a temp file. */
export type TestAgent = {
  client: UplinkClient;
  store: Store;
  /** Job ids the intake was called with, in call order, including rejected replays. */
  intakeCalls: string[];
  /** Ids of the jobs in the store. */
  jobIds: () => string[];
  /** Launches a stored job and finishes each device's run with the given state. */
  runJob: (jobId: string, states: Record<string, 'succeeded' | 'failed'>) => void;
  stop: () => Promise<void>;
};

export type TestAgentOptions = {
  url: string;
  token: string;
  siteId: string;
  keys: readonly VerificationKey[];
  clock?: Clock;
  extra?: Partial<UplinkOptions>;
};

/** Starts an uplink client for one site with a fresh store in a temp dir. */
export async function startTestAgent(options: TestAgentOptions): Promise<TestAgent> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agent-'));
  const clock = options.clock ?? systemClock;
  const store = Store.open(path.join(dir, 'agent.db'), { clock });
  const intakeCalls: string[] = [];

  const client = new UplinkClient({
    url: options.url,
    token: options.token,
    siteId: options.siteId,
    agentVersion: '0.1.0-test',
    devices: () => [
      { id: 'router-1', name: 'Core', transport: 'api', routerosVersion: '7.16' },
      { id: 'router-2', name: 'Edge', transport: 'ssh' },
    ],
    keys: options.keys,
    intake: async (job: Job) => {
      intakeCalls.push(job.id);
      return store.acceptJob(job);
    },
    cancel: async (jobId) => {
      store.jobs.cancel(jobId, TEST_DEVICES, clock.now());
    },
    outbox: store.outbox,
    outboxId: store.outbox.id,
    backoff: { random: () => 0 },
    clock,
    ...options.extra,
  });
  await client.start();

  return {
    client,
    store,
    intakeCalls,
    jobIds: () =>
      store.database.prepare<[], string>('SELECT id FROM jobs ORDER BY id').pluck().all(),
    runJob: (jobId, states) => {
      const now = clock.now();
      store.jobs.launch(jobId, Object.keys(states), now);
      for (const [deviceId, state] of Object.entries(states)) {
        store.runs.start(jobId, deviceId, now);
        store.runs.finish(jobId, deviceId, {
          state,
          output: `${deviceId} ${state}`,
          outputBytes: deviceId.length + state.length + 1,
          finishedAt: now + 1000,
          ...(state === 'failed' ? { reasonCode: 'SCRIPT_FAILED', reasonMessage: 'failed' } : {}),
        });
      }
    },
    stop: async () => {
      await client.stop();
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
