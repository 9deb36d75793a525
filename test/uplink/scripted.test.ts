import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../src/errors.js';
import { createLogger, type Logger } from '../../src/logging.js';
import { encodePublicKey, parsePublicKey } from '../../src/protocol/signing.js';
import { makeJob } from '../support/jobs.js';
import { ManualClock } from '../support/manual-clock.js';
import { newSigningKey, signedOffer } from '../support/signed-offers.js';
import { type RecordingPeer, ScriptedControlPlane, waitFor } from '../support/sockets.js';
import { startTestAgent, type TestAgent } from '../support/uplink.js';

const SITE = randomUUID();

/** A `welcome` for SITE; tests override `lastSeq`. */
const WELCOME = {
  type: 'welcome',
  protocol: 1,
  siteId: SITE,
  lastSeq: 0,
  heartbeatIntervalMs: 30_000,
  maxUnacknowledgedStatus: 256,
};
const key = newSigningKey();
const pinned = parsePublicKey(encodePublicKey(key.publicKey));

let server: ScriptedControlPlane | undefined;
let agent: TestAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  await server?.close();
  agent = undefined;
  server = undefined;
});

async function connect(
  options: {
    window?: number;
    heartbeatIntervalMs?: number;
    autoPong?: boolean;
    logger?: Logger;
  } = {},
): Promise<{ peer: RecordingPeer; agent: TestAgent; clock: ManualClock }> {
  const clock = new ManualClock();
  server = await ScriptedControlPlane.start({ autoPong: options.autoPong ?? true });
  agent = await startTestAgent({
    url: server.url,
    token: 'token',
    siteId: SITE,
    keys: [pinned],
    clock,
    ...(options.logger === undefined ? {} : { extra: { logger: options.logger } }),
  });
  const peer = await server.peer();
  await peer.next('hello');
  peer.send({
    type: 'welcome',
    protocol: 1,
    siteId: SITE,
    lastSeq: 0,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 30_000,
    maxUnacknowledgedStatus: options.window ?? 256,
  });
  await waitFor(() => agent?.client.getStatus().state === 'connected', 5000, 'connected');
  return { peer, agent, clock };
}

describe('uplink job verification', () => {
  it('hello carries inventory without credentials', async () => {
    const { peer } = await connect();
    const hello = peer.ofType('hello')[0];

    expect(hello?.siteId).toBe(SITE);
    expect(hello?.devices).toEqual([
      { id: 'router-1', name: 'Core', transport: 'api', routerosVersion: '7.16' },
      { id: 'router-2', name: 'Edge', transport: 'ssh' },
    ]);
    expect(JSON.stringify(hello)).not.toMatch(/password|token/i);
  });

  it('rejects hostile offers before storing', async () => {
    const { peer, agent, clock } = await connect();
    const now = clock.now();
    const valid = signedOffer(key, SITE, now);
    const { signature: _removed, ...unsignedAuthorization } = valid.authorization;
    const offers: Array<[unknown, string]> = [
      [signedOffer(newSigningKey(), SITE, now), 'JOB_SIGNATURE_INVALID'],
      [{ ...valid, script: '/system reset-configuration' }, 'JOB_SIGNATURE_INVALID'],
      [{ ...valid, targets: 'all' }, 'JOB_SIGNATURE_INVALID'],
      [signedOffer(key, randomUUID(), now), 'JOB_WRONG_SITE'],
      [
        signedOffer(key, SITE, now, { launchAt: now - 7200_000, expiresAt: now - 1 }),
        'JOB_EXPIRED',
      ],
      [{ ...valid, authorization: unsignedAuthorization }, 'JOB_UNSIGNED'],
      [{ ...valid, launchAt: 'soon' }, 'JOB_INVALID'],
    ];

    for (const [job] of offers) {
      peer.send({ type: 'job_offer', job });
    }

    await peer.next('job_rejected', offers.length);
    expect(peer.ofType('job_rejected').map((frame) => frame.code)).toEqual(
      offers.map(([, code]) => code),
    );
    expect(agent.intakeCalls).toEqual([]);
    expect(agent.jobIds()).toEqual([]);
  });

  it('accepts replays and rejects changed replays', async () => {
    const { peer, agent, clock } = await connect();
    const offer = signedOffer(key, SITE, clock.now());
    const changed = signedOffer(key, SITE, clock.now(), { id: offer.id, script: ':put changed' });

    peer.send({ type: 'job_offer', job: offer });
    peer.send({ type: 'job_offer', job: offer });
    peer.send({ type: 'job_offer', job: changed });

    await peer.next('job_rejected');
    expect(peer.ofType('job_accepted').map((frame) => frame.jobId)).toEqual([offer.id, offer.id]);
    expect(peer.ofType('job_rejected')[0]?.code).toBe('JOB_INVALID');
    expect(agent.jobIds()).toEqual([offer.id]);
  });

  it('store failure leaves the offer open', async () => {
    const clock = new ManualClock();
    server = await ScriptedControlPlane.start();
    agent = await startTestAgent({
      url: server.url,
      token: 'token',
      siteId: SITE,
      keys: [pinned],
      clock,
      extra: {
        intake: async () => {
          throw new AgentError('STORE_FULL', 'disk full');
        },
      },
    });
    const peer = await server.peer();
    await peer.next('hello');
    peer.send({ ...WELCOME, lastSeq: 0 });
    const offer = signedOffer(key, SITE, clock.now());

    peer.send({ type: 'job_offer', job: offer });

    const error = await peer.next('error');
    expect(error.code).toBe('STORE_FULL');
    expect(error.jobId).toBe(offer.id);
    expect(peer.ofType('job_rejected')).toEqual([]);
  });

  it('reports cancel of an unknown job', async () => {
    const { peer } = await connect();
    const jobId = randomUUID();

    peer.send({ type: 'job_cancel', jobId });

    const error = await peer.next('error');
    expect(error.code).toBe('JOB_NOT_FOUND');
    expect(error.jobId).toBe(jobId);
  });
});

describe('uplink status window', () => {
  it('keeps unacknowledged events within the window', async () => {
    const { peer, agent } = await connect({ window: 3 });
    writeOutboxEvents(agent, 7);

    agent.client.notifyOutbox();
    await waitFor(() => sequenced(peer).length === 3, 5000, 'three status frames');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sequenced(peer)).toHaveLength(3);
    expect(agent.client.getStatus().unacknowledged).toBe(3);

    peer.send({ type: 'status_ack', seq: 2 });
    await waitFor(() => sequenced(peer).length === 5, 5000, 'five status frames');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sequenced(peer)).toEqual([1, 2, 3, 4, 5]);
    expect(agent.store.outbox.acknowledgedSeq()).toBe(2);
  });

  it('ignores a held sequence beyond the outbox', async () => {
    const clock = new ManualClock();
    server = await ScriptedControlPlane.start();
    agent = await startTestAgent({
      url: server.url,
      token: 'token',
      siteId: SITE,
      keys: [pinned],
      clock,
    });
    writeOutboxEvents(agent, 2);
    const written = agent.store.outbox.lastSeq();
    const peer = await server.peer();
    await peer.next('hello');

    peer.send({ ...WELCOME, lastSeq: written + 100 });
    await waitFor(() => agent?.client.getStatus().state === 'connected');
    writeOutboxEvents(agent, 1);
    agent.client.notifyOutbox();

    await waitFor(() => sequenced(peer).length > 0, 5000, 'new events');
    expect(sequenced(peer)[0]).toBe(written + 1);
    expect(agent.store.outbox.acknowledgedSeq()).toBe(written);
  });

  it('rejects acknowledgement beyond sent events', async () => {
    const { peer } = await connect();

    peer.send({ type: 'status_ack', seq: 99 });

    const error = await peer.next('error');
    expect(error.code).toBe('FRAME_INVALID');
  });

  it('resumes after the sequence the server holds', async () => {
    const clock = new ManualClock();
    server = await ScriptedControlPlane.start();
    agent = await startTestAgent({
      url: server.url,
      token: 'token',
      siteId: SITE,
      keys: [pinned],
      clock,
    });
    writeOutboxEvents(agent, 2);

    const peer = await server.peer();
    await peer.next('hello');
    peer.send({
      type: 'welcome',
      protocol: 1,
      siteId: SITE,
      lastSeq: 2,
      heartbeatIntervalMs: 30_000,
      maxUnacknowledgedStatus: 256,
    });

    const total = agent.store.outbox.lastSeq();
    await waitFor(() => sequenced(peer).length === total - 2, 5000, 'status frames after 2');
    expect(sequenced(peer)[0]).toBe(3);
    expect(agent.store.outbox.acknowledgedSeq()).toBe(2);
  });
});

describe('uplink heartbeat', () => {
  it('drops a link whose pings go unanswered', async () => {
    const { agent, clock } = await connect({ heartbeatIntervalMs: 1000, autoPong: false });

    clock.advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(1000);

    await waitFor(() => agent.client.getStatus().state === 'backoff', 5000, 'heartbeat timeout');
    expect(agent.client.getStatus().lastError?.code).toBe('UPLINK_UNAVAILABLE');
  });

  it('keeps a link whose pings are answered', async () => {
    const { agent, clock } = await connect({ heartbeatIntervalMs: 1000 });

    for (let step = 0; step < 5; step += 1) {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    expect(agent.client.getStatus().state).toBe('connected');
  });
});

/** Sequence numbers of the status frames a peer received, in arrival order. */
function sequenced(peer: RecordingPeer): number[] {
  return peer.frames
    .filter((frame) => typeof frame.seq === 'number' && frame.type !== 'error')
    .map((frame) => frame.seq as number);
}

/**
 * Stores a job for `devices` devices and starts each run, which writes at least `devices` + 2
 * outbox events (stored, launched, one per started run).
 */
function writeOutboxEvents(agent: TestAgent, devices: number): void {
  const deviceIds = Array.from({ length: devices }, (_, index) => `router-${index + 1}`);
  const job = makeJob({
    siteId: SITE,
    targets: deviceIds,
    launchAt: Date.parse('2026-01-01T00:00:00Z'),
  });
  agent.store.acceptJob(job);
  agent.store.jobs.launch(job.id, deviceIds, job.launchAt);
  for (const deviceId of deviceIds) {
    agent.store.runs.start(job.id, deviceId, job.launchAt);
  }
}

describe('uplink replaced connection', () => {
  it('warns with the close code', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'edge-agent',
      destination: { write: (line: string) => lines.push(line) },
    });
    const { peer } = await connect({ logger });

    peer.socket.close(4001, 'replaced by a newer connection');
    await waitFor(() => agent?.client.getStatus().state !== 'connected', 5000, 'link closed');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const warning = records.find((record) => record.code === 4001);

    expect(warning?.level).toBe(40);
    expect(warning?.msg).toBe(
      'control plane replaced this connection; check that no other agent uses this site token',
    );
  });
});

describe('uplink malformed frames', () => {
  it('offer without a job is a frame error', async () => {
    const { peer, agent } = await connect();

    peer.send({ type: 'job_offer' });

    const error = await peer.next('error');
    expect(error.code).toBe('FRAME_INVALID');
    expect(agent.intakeCalls).toEqual([]);
  });

  it('rejects prototype keys and keeps serving', async () => {
    const { peer, agent, clock } = await connect();
    const offer = signedOffer(key, SITE, clock.now());
    const frames = [
      '{"type":"status_ack","seq":1,"__proto__":{"polluted":true}}',
      `{"type":"job_offer","job":{"__proto__":{"polluted":true},"id":"${offer.id}"}}`,
      '{"type":"job_cancel","jobId":"x","constructor":{"prototype":{"polluted":true}}}',
      '{"type":"status_ack","seq":1e999}',
    ];

    for (const frame of frames) {
      peer.send(frame);
    }
    peer.send({ type: 'job_offer', job: offer });

    await peer.next('job_accepted');
    expect(peer.ofType('error').map((frame) => frame.code)).toEqual(
      frames.map(() => 'FRAME_INVALID'),
    );
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(agent.jobIds()).toEqual([offer.id]);
  });
});
