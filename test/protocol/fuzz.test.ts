import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/protocol/limits.js';
import { encodePublicKey, parsePublicKey, type SigningKey } from '../../src/protocol/signing.js';
import {
  apiRequest,
  startTestControlPlane,
  type TestControlPlane,
} from '../support/control-plane.js';
import { hostileFrames, seededRandom } from '../support/hostile-frames.js';
import { ManualClock } from '../support/manual-clock.js';
import { runReport } from '../support/run-reports.js';
import { newSigningKey, signedOffer } from '../support/signed-offers.js';
import {
  connectRaw,
  type RecordingPeer,
  ScriptedControlPlane,
  waitFor,
} from '../support/sockets.js';
import { startTestAgent, type TestAgent } from '../support/uplink.js';

/** Hostile frames sent to each side, besides three over the size limit. */
const FRAME_COUNT = 1200;

const OUTBOX_ID = randomUUID();

let cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) {
    await cleanup();
  }

  cleanups = [];
});

function sendAll(peer: RecordingPeer, frames: ReturnType<typeof hostileFrames>): void {
  for (const frame of frames) {
    peer.socket.send(frame.data, { binary: frame.binary });
  }
}

function errorCodes(peer: RecordingPeer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const frame of peer.ofType('error')) {
    counts.set(String(frame.code), (counts.get(String(frame.code)) ?? 0) + 1);
  }

  return counts;
}

describe('fuzzing the control plane hub', () => {
  async function connectedAgent(fixture: TestControlPlane): Promise<RecordingPeer> {
    const site = fixture.sites[0];
    const { peer } = await connectRaw(fixture.controlPlane.info.agentUrl, site?.token);
    if (peer === undefined || site === undefined) {
      throw new Error('upgrade was rejected');
    }

    cleanups.push(async () => peer.socket.terminate());
    peer.send({
      type: 'hello',
      protocols: [1],
      agentVersion: 'fuzz',
      siteId: site.id,
      devices: [],
      outboxId: OUTBOX_ID,
      acknowledgedSeq: 0,
    });
    await peer.next('welcome');
    return peer;
  }

  it('answers every hostile frame with an error', async () => {
    const fixture = await startTestControlPlane({ siteCount: 1 });
    cleanups.push(() => fixture.stop());
    const peer = await connectedAgent(fixture);
    const samples = [
      {
        type: 'hello',
        protocols: [1],
        agentVersion: 'x',
        siteId: randomUUID(),
        devices: [],
        outboxId: OUTBOX_ID,
        acknowledgedSeq: 0,
      },
      { type: 'job_accepted', jobId: randomUUID() },
      { type: 'job_rejected', jobId: randomUUID(), code: 'JOB_EXPIRED', message: 'late' },
      { type: 'run_status', seq: 1, run: runReport(randomUUID(), 'router-1') },
      { type: 'job_verdict', seq: 1, jobId: randomUUID(), verdict: 'completed', decidedAt: 1 },
      { type: 'error', code: 'INTERNAL', message: 'x' },
    ];
    const frames = hostileFrames(samples, FRAME_COUNT, seededRandom(1));

    sendAll(peer, frames);

    await peer.next('error', frames.length, 60_000);
    const codes = errorCodes(peer);
    expect(peer.ofType('error')).toHaveLength(frames.length);
    expect(codes.get('FRAME_TOO_LARGE')).toBe(3);
    expect((codes.get('FRAME_INVALID') ?? 0) + 3).toBe(frames.length);
    expect(peer.closeCode).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');

    const token = await fixture.token();
    const list = await apiRequest(fixture, 'GET', '/scripts/scheduled', { token });
    expect(list.status).toBe(200);
    peer.send({ type: 'run_status', seq: 1, run: runReport(randomUUID(), 'router-1') });
    const ack = await peer.next('status_ack');
    expect(ack.seq).toBe(1);
  });

  it('closes a link past maxPayload and keeps serving', async () => {
    const fixture = await startTestControlPlane({ siteCount: 1 });
    cleanups.push(() => fixture.stop());
    const peer = await connectedAgent(fixture);

    peer.socket.send(Buffer.alloc(LIMITS.maxPayloadBytes + 1, 0x20));

    await waitFor(() => peer.closeCode !== undefined, 10_000, 'close');
    expect(peer.closeCode).toBe(1009);
    const again = await connectedAgent(fixture);
    expect(again.ofType('welcome')).toHaveLength(1);
  });
});

describe('fuzzing the uplink client', () => {
  async function connectedServer(): Promise<{
    peer: RecordingPeer;
    agent: TestAgent;
    siteId: string;
    key: SigningKey;
  }> {
    const key = newSigningKey();
    const siteId = randomUUID();
    const server = await ScriptedControlPlane.start();
    const agent = await startTestAgent({
      url: server.url,
      token: 'token',
      siteId,
      keys: [parsePublicKey(encodePublicKey(key.publicKey))],
      clock: new ManualClock(),
    });
    cleanups.push(
      () => server.close(),
      () => agent.stop(),
    );
    const peer = await server.peer();
    await peer.next('hello');
    peer.send({
      type: 'welcome',
      protocol: 1,
      siteId,
      lastSeq: 0,
      heartbeatIntervalMs: 30_000,
      maxUnacknowledgedStatus: 256,
    });
    await waitFor(() => agent.client.getStatus().state === 'connected');
    return { peer, agent, siteId, key };
  }

  it('answers every hostile frame with an error', async () => {
    const { peer, agent, siteId, key } = await connectedServer();
    const samples = [
      {
        type: 'welcome',
        protocol: 1,
        siteId,
        lastSeq: 0,
        heartbeatIntervalMs: 30_000,
        maxUnacknowledgedStatus: 8,
      },
      { type: 'job_offer', job: {} },
      { type: 'job_cancel', jobId: randomUUID() },
      { type: 'status_ack', seq: 1 },
      { type: 'error', code: 'INTERNAL', message: 'x' },
    ];
    const frames = hostileFrames(samples, FRAME_COUNT, seededRandom(2), ['job']);

    sendAll(peer, frames);

    await peer.next('error', frames.length, 60_000);
    const codes = errorCodes(peer);
    expect(peer.ofType('error')).toHaveLength(frames.length);
    expect(codes.get('FRAME_TOO_LARGE')).toBe(3);
    expect(agent.client.getStatus().state).toBe('connected');
    expect(agent.jobIds()).toEqual([]);
    expect(Object.prototype).not.toHaveProperty('polluted');

    const offer = signedOffer(key, siteId, Date.parse('2026-01-01T00:00:00Z'));
    peer.send({ type: 'job_offer', job: offer });
    const accepted = await peer.next('job_accepted');
    expect(accepted.jobId).toBe(offer.id);
  });

  it('answers hostile job bodies with rejections', async () => {
    const { peer, agent } = await connectedServer();
    const random = seededRandom(3);
    const bodies = hostileFrames([signedOffer(newSigningKey(), randomUUID(), 0)], 300, random);
    const jobs = bodies
      .filter((frame) => frame.kind === 'wrong-type' || frame.kind === 'unknown-type')
      .map((frame) => JSON.parse(frame.data.toString()) as unknown);

    for (const job of jobs) {
      peer.send({ type: 'job_offer', job });
    }

    await waitFor(
      () => peer.ofType('job_rejected').length + peer.ofType('error').length >= jobs.length,
      30_000,
      'replies to hostile jobs',
    );
    expect(agent.intakeCalls).toEqual([]);
    expect(agent.client.getStatus().state).toBe('connected');
  });
});
