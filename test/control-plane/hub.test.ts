import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import {
  apiRequest,
  scriptBody,
  startTestControlPlane,
  type TestControlPlane,
} from '../support/control-plane.js';
import { runReport } from '../support/run-reports.js';
import { connectRaw, type RecordingPeer, waitFor } from '../support/sockets.js';

let fixture: TestControlPlane;
const peers: RecordingPeer[] = [];
/** JSON log lines the control plane wrote in the current test. */
let logLines: string[];

beforeEach(async () => {
  logLines = [];
  const logger = createLogger({
    name: 'edge-control-plane',
    destination: { write: (line: string) => logLines.push(line) },
  });
  fixture = await startTestControlPlane({ logger });
});

const SHARED_TOKEN_WARNING = 'another agent uses this site token; give each agent its own token';

/** Returns the log records whose message is `message`. */
function logRecords(message: string): Array<Record<string, unknown>> {
  return logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === message);
}

afterEach(async () => {
  for (const peer of peers.splice(0)) {
    peer.socket.terminate();
  }

  await fixture.stop();
});

function site(index = 0) {
  const found = fixture.sites[index];
  if (found === undefined) {
    throw new Error(`fixture has no site ${index}`);
  }

  return found;
}

function hello(siteId: string, overrides: Record<string, unknown> = {}) {
  return {
    type: 'hello',
    protocols: [1],
    agentVersion: '0.1.0-test',
    siteId,
    devices: [{ id: 'router-1', name: 'Core', transport: 'api' }],
    outboxId: '9a0e8a8c-2b5e-4c43-9d43-5f8f3d1f0a11',
    acknowledgedSeq: 0,
    ...overrides,
  };
}

async function connectAgent(index = 0, helloOverrides: Record<string, unknown> = {}) {
  const { peer } = await connectRaw(fixture.controlPlane.info.agentUrl, site(index).token);
  if (peer === undefined) {
    throw new Error('upgrade was rejected');
  }

  peers.push(peer);
  peer.send(hello(site(index).id, helloOverrides));
  return peer;
}

/** Creates and authorizes a script launching now, so its offer is due at once. */
async function deliveredScript(peer: RecordingPeer): Promise<string> {
  const token = await fixture.token();
  const created = await apiRequest(fixture, 'POST', '/scripts/scheduled', {
    token,
    body: scriptBody([site().id], { launch_at: new Date().toISOString() }),
  });
  const id = (created.body as { id: string }).id;
  await apiRequest(fixture, 'POST', `/scripts/scheduled/${id}/authorize`, { token });
  await peer.next('job_offer');
  peer.send({ type: 'job_accepted', jobId: id });
  await waitFor(() => fixture.controlPlane.deliveries.get(id, site().id)?.state === 'accepted');
  return id;
}

/**
 * Reports a failed run and a failed verdict, then a completed verdict for the same job from a
 * new outbox, as an agent whose store was replaced would. Returns the job id.
 */
async function contradictVerdict(): Promise<string> {
  const peer = await connectAgent();
  await peer.next('welcome');
  const id = await deliveredScript(peer);
  const failedRun = runReport(id, 'router-1', { state: 'failed', reasonCode: 'SCRIPT_FAILED' });
  peer.send({ type: 'run_status', seq: 1, run: failedRun });
  peer.send({ type: 'job_verdict', seq: 2, jobId: id, verdict: 'failed', decidedAt: Date.now() });
  await peer.next('status_ack', 2);
  peer.socket.close();

  const again = await connectAgent(0, { outboxId: randomUUID() });
  await again.next('welcome');
  again.send({ type: 'job_verdict', seq: 1, jobId: id, verdict: 'completed', decidedAt: 1 });
  await again.next('status_ack');
  return id;
}

describe('agent hub authentication', () => {
  it('rejects missing and unknown tokens', async () => {
    const url = fixture.controlPlane.info.agentUrl;

    const missing = await connectRaw(url, undefined);
    const unknown = await connectRaw(url, 'not-a-site-token');
    const wrongPath = await connectRaw(url.replace('/agent/v1', '/agent/v0'), site().token);

    expect(missing.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrongPath.status).toBe(404);
  });

  it('welcomes an agent with its token', async () => {
    const peer = await connectAgent();

    const welcome = await peer.next('welcome');

    expect(welcome.siteId).toBe(site().id);
    expect(welcome.lastSeq).toBe(0);
    expect(welcome.protocol).toBe(1);
  });

  it('rejects hello for another site', async () => {
    const peer = await connectAgent(0, { siteId: site(1).id });

    const error = await peer.next('error');

    expect(error.code).toBe('FORBIDDEN');
    await waitFor(() => peer.closeCode !== undefined);
    expect(peer.closeCode).toBe(4003);
  });

  it('rejects unsupported protocol versions', async () => {
    const peer = await connectAgent(0, { protocols: [7, 9] });

    const error = await peer.next('error');

    expect(error.code).toBe('PROTOCOL_VERSION_UNSUPPORTED');
    await waitFor(() => peer.closeCode !== undefined);
    expect(peer.closeCode).toBe(4002);
  });

  it('closes when the first frame is not hello', async () => {
    const { peer } = await connectRaw(fixture.controlPlane.info.agentUrl, site().token);
    if (peer === undefined) {
      throw new Error('upgrade was rejected');
    }

    peers.push(peer);
    peer.send({ type: 'job_accepted', jobId: randomUUID() });

    const error = await peer.next('error');
    expect(error.code).toBe('FRAME_INVALID');
    await waitFor(() => peer.closeCode !== undefined);
    expect(peer.closeCode).toBe(4003);
  });

  it('replaces an older connection of the site', async () => {
    const first = await connectAgent();
    await first.next('welcome');

    const second = await connectAgent();
    await second.next('welcome');

    await waitFor(() => first.closeCode !== undefined);
    expect(first.closeCode).toBe(4001);
    expect(fixture.controlPlane.hub.connectedSites()).toEqual([site().id]);
  });

  it('warns once about a shared token', async () => {
    const outboxIds = [randomUUID(), randomUUID()];
    for (let index = 0; index < 4; index++) {
      const peer = await connectAgent(0, { outboxId: outboxIds[index % 2] });
      await peer.next('welcome');
    }

    const warnings = logRecords(SHARED_TOKEN_WARNING);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.siteId).toBe(site().id);
    expect(warnings[0]?.replacedOutboxId).toBe(outboxIds[0]);
  });

  it('reconnects without a warning', async () => {
    const first = await connectAgent();
    await first.next('welcome');
    const second = await connectAgent();
    await second.next('welcome');

    expect(logRecords(SHARED_TOKEN_WARNING)).toHaveLength(0);
  });
});

describe('agent hub status recording', () => {
  it('records a repeated status once', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    const frame = { type: 'run_status', seq: 1, run: runReport(id, 'router-1') };

    peer.send(frame);
    peer.send(frame);

    await peer.next('status_ack', 2);
    expect(peer.ofType('status_ack').map((ack) => ack.seq)).toEqual([1, 1]);
    expect(fixture.controlPlane.deliveries.countEvents(id, site().id)).toBe(1);
    expect(fixture.controlPlane.deliveries.results(id, site().id)).toHaveLength(1);
  });

  it('ignores an older revision', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);

    peer.send({ type: 'run_status', seq: 1, run: runReport(id, 'router-1', { revision: 5 }) });
    peer.send({
      type: 'run_status',
      seq: 2,
      run: runReport(id, 'router-1', { revision: 4, state: 'running' }),
    });

    await peer.next('status_ack', 2);
    const [result] = fixture.controlPlane.deliveries.results(id, site().id);
    expect(result?.state).toBe('succeeded');
    expect(result?.revision).toBe(5);
  });

  it('resumes from the recorded sequence', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    peer.send({ type: 'run_status', seq: 1, run: runReport(id, 'router-1') });
    await peer.next('status_ack');
    peer.socket.close();

    const again = await connectAgent();
    const welcome = await again.next('welcome');

    expect(welcome.lastSeq).toBe(1);
  });

  it('restarts sequences for a new outbox', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    peer.send({ type: 'run_status', seq: 1, run: runReport(id, 'router-1') });
    await peer.next('status_ack');
    peer.socket.close();

    const again = await connectAgent(0, { outboxId: randomUUID() });
    const welcome = await again.next('welcome');

    expect(welcome.lastSeq).toBe(0);
  });

  it('keeps the first verdict', async () => {
    const id = await contradictVerdict();

    expect(fixture.controlPlane.deliveries.get(id, site().id)?.agentVerdict).toBe('failed');
  });

  it('warns about a contradicting verdict', async () => {
    const id = await contradictVerdict();

    const [warning] = logRecords('agent verdict contradicts the recorded runs');
    expect(warning?.jobId).toBe(id);
    expect(warning?.siteId).toBe(site().id);
    expect(warning?.agentVerdict).toBe('completed');
    expect(warning?.runsVerdict).toBe('failed');
  });

  it('job_stored event marks acceptance', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const token = await fixture.token();
    const created = await apiRequest(fixture, 'POST', '/scripts/scheduled', {
      token,
      body: scriptBody([site().id], { launch_at: new Date().toISOString() }),
    });
    const id = (created.body as { id: string }).id;
    await apiRequest(fixture, 'POST', `/scripts/scheduled/${id}/authorize`, { token });
    await peer.next('job_offer');

    peer.send({ type: 'job_stored', seq: 1, jobId: id, receivedAt: Date.now(), targets: 'all' });
    peer.send({
      type: 'job_launched',
      seq: 2,
      jobId: id,
      launchedAt: Date.now(),
      deviceIds: ['router-1'],
    });

    await peer.next('status_ack', 2);
    const delivery = fixture.controlPlane.deliveries.get(id, site().id);
    expect(delivery?.state).toBe('accepted');
    expect(delivery?.launchedDeviceIds).toEqual(['router-1']);
  });

  it('records a mixed burst in order', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    const { deliveries } = fixture.controlPlane;
    const run = (seq: number, jobId = id) =>
      ({ type: 'run_status', seq, run: runReport(jobId, 'router-1', { revision: seq }) }) as const;

    const outcomes = deliveries.recordAll(
      site().id,
      [run(1, randomUUID()), run(3), run(3), run(2)],
      Date.now(),
    );

    expect(outcomes).toEqual(['unknown-job', 'recorded', 'duplicate', 'recorded']);
    expect(deliveries.lastSeq(site().id)).toBe(3);
    expect(deliveries.countEvents(id, site().id)).toBe(2);
    expect(deliveries.results(id, site().id)[0]?.revision).toBe(3);
  });

  it('keeps runs of an earlier launch', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    const { deliveries } = fixture.controlPlane;
    const launched = { type: 'job_launched', jobId: id, launchedAt: Date.now() } as const;

    const outcomes = deliveries.recordAll(
      site().id,
      [
        { ...launched, seq: 1, deviceIds: ['router-1'] },
        { type: 'run_status', seq: 2, run: runReport(id, 'router-1') },
        { ...launched, seq: 3, deviceIds: ['router-2'] },
        { type: 'run_status', seq: 4, run: runReport(id, 'router-2') },
      ],
      Date.now(),
    );

    expect(outcomes).toEqual(['recorded', 'recorded', 'recorded', 'recorded']);
    expect(deliveries.results(id, site().id).map((result) => result.deviceId)).toEqual([
      'router-1',
      'router-2',
    ]);
  });

  it('acknowledges status of unknown jobs', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');

    peer.send({ type: 'run_status', seq: 1, run: runReport(randomUUID(), 'router-1') });

    const error = await peer.next('error');
    const ack = await peer.next('status_ack');
    expect(error.code).toBe('JOB_NOT_FOUND');
    expect(ack.seq).toBe(1);
  });

  it('rejects runs of unlaunched devices', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    const launched = { type: 'job_launched', seq: 1, jobId: id, launchedAt: Date.now() };

    peer.send({ ...launched, deviceIds: ['router-1'] });
    peer.send({ type: 'run_status', seq: 2, run: runReport(id, 'nonexistent-device') });
    peer.send({ type: 'run_status', seq: 3, run: runReport(id, 'router-1') });

    const error = await peer.next('error');
    await peer.next('status_ack', 3);
    const results = fixture.controlPlane.deliveries.results(id, site().id);
    expect(error.code).toBe('DEVICE_NOT_FOUND');
    expect(peer.ofType('status_ack').map((ack) => ack.seq)).toEqual([1, 2, 3]);
    expect(results.map((result) => result.deviceId)).toEqual(['router-1']);
    expect(logRecords('run status for a device not launched')[0]?.deviceId).toBe(
      'nonexistent-device',
    );
  });

  it('drops early runs the launch leaves out', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const id = await deliveredScript(peer);
    const { deliveries } = fixture.controlPlane;
    const launched = { type: 'job_launched', seq: 3, jobId: id, launchedAt: Date.now() } as const;

    const outcomes = deliveries.recordAll(
      site().id,
      [
        { type: 'run_status', seq: 1, run: runReport(id, 'router-1') },
        { type: 'run_status', seq: 2, run: runReport(id, 'router-2') },
        { ...launched, deviceIds: ['router-1'] },
      ],
      Date.now(),
    );

    expect(outcomes).toEqual(['recorded', 'recorded', 'recorded']);
    expect(deliveries.results(id, site().id).map((result) => result.deviceId)).toEqual([
      'router-1',
    ]);
  });

  it('records rejection of an offer', async () => {
    const peer = await connectAgent();
    await peer.next('welcome');
    const token = await fixture.token();
    const created = await apiRequest(fixture, 'POST', '/scripts/scheduled', {
      token,
      body: scriptBody([site().id], { launch_at: new Date().toISOString() }),
    });
    const id = (created.body as { id: string }).id;
    await apiRequest(fixture, 'POST', `/scripts/scheduled/${id}/authorize`, { token });
    await peer.next('job_offer');

    peer.send({ type: 'job_rejected', jobId: id, code: 'JOB_EXPIRED', message: 'expired' });

    await waitFor(() => fixture.controlPlane.deliveries.get(id, site().id)?.state === 'rejected');
    const progress = await apiRequest(fixture, 'GET', `/scripts/scheduled/${id}/progress`, {
      token,
    });
    expect(progress.body).toEqual({ completed: [], failed: [site().id], pending: [] });
  });
});
