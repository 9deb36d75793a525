import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/clock.js';
import type { VerificationKey } from '../../src/protocol/signing.js';
import { UplinkClient, type UplinkOptions } from '../../src/uplink/client.js';
import { TestAgentStore } from './agent-store.js';

/** An uplink client with its store on a temp file. */
export type TestAgent = {
  client: UplinkClient;
  store: TestAgentStore;
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
  const store = new TestAgentStore(path.join(dir, 'agent.db'));
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
    intake: store.intake,
    cancel: store.cancel,
    outbox: store.outbox,
    outboxId: randomUUID(),
    backoff: { random: () => 0 },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...options.extra,
  });
  await client.start();

  return {
    client,
    store,
    stop: async () => {
      await client.stop();
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
