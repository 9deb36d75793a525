import { afterEach, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/clock.js';
import { openSession } from '../../src/devices/open-session.js';
import type { OpenSession, Transport } from '../../src/devices/types.js';
import type { Run } from '../../src/jobs/types.js';
import { deviceReachable } from '../../src/status/view.js';
import { thrownCode } from '../support/errors.js';
import {
  countedScript,
  type FleetEngine,
  type FleetEngineOptions,
  maxOverlap,
  startFleetEngine,
} from '../support/fleet-engine.js';
import { makeJob } from '../support/jobs.js';
import { fillDatabase, freeDatabase } from '../support/temp-store.js';

const engines: FleetEngine[] = [];

afterEach(async () => {
  for (const engine of engines.splice(0)) {
    await engine.dispose();
  }
});

async function engineWith(
  options: Partial<FleetEngineOptions> & { devices: number; transport: Transport },
): Promise<FleetEngine> {
  const engine = await startFleetEngine({ openSession, ...options });
  engines.push(engine);
  return engine;
}

function deviceIds(engine: FleetEngine): string[] {
  return engine.fleet.devices.map((device) => device.id);
}

/** Builds a job that launches now and expires in an hour. */
function jobNow(targets: string[], script: string, overrides: Parameters<typeof makeJob>[0] = {}) {
  const now = systemClock.now();
  return makeJob({
    targets,
    script,
    launchAt: now,
    expiresAt: now + 3_600_000,
    receivedAt: now,
    ...overrides,
  });
}

function byDevice(runs: readonly Run[]): Record<string, Run> {
  return Object.fromEntries(runs.map((run) => [run.deviceId, run]));
}

/** Waits until `condition` holds, checking every 10 ms for at most 10 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met within 10 s');
    }

    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const TRANSPORTS: readonly Transport[] = ['api', 'ssh'];

describe.each(TRANSPORTS)('Runner over %s', (transport) => {
  it('records output of a succeeded run', async () => {
    const engine = await engineWith({ transport, devices: 1 });
    const [id = ''] = deviceIds(engine);

    const [run] = await engine.runJob(jobNow([id], countedScript(':put "hello from the agent"')));

    expect(run?.state).toBe('succeeded');
    expect(run?.output).toBe('hello from the agent\r\n');
    expect(run?.outputBytes).toBe(22);
    expect(run?.outputTruncated).toBe(false);
    expect(engine.scriptRuns(id)).toBe(1);
    expect(engine.store.devices.facts(id)?.version).toContain('7.18.2');
  });

  it('records device error with position', async () => {
    const engine = await engineWith({ transport, devices: 1 });
    const [id = ''] = deviceIds(engine);

    const [run] = await engine.runJob(jobNow([id], ':put "ok"\r\n/nothing here'));

    expect(run?.state).toBe('failed');
    expect(run?.reasonCode).toBe('SCRIPT_SYNTAX_ERROR');
    expect(run?.errorLine).toBe(2);
    expect(run?.errorColumn).toBeGreaterThanOrEqual(1);
  });

  it('keeps head and tail of large output', async () => {
    const engine = await engineWith({
      transport,
      devices: 1,
      limits: { outputCapBytes: 64 * 1024 },
    });
    const [id = ''] = deviceIds(engine);
    const script = ':for i from=1 to=20000 do={:put "line $i of a long listing"}';

    const [run] = await engine.runJob(jobNow([id], script));
    const output = run?.output ?? '';

    expect(run?.state).toBe('succeeded');
    expect(run?.outputTruncated).toBe(true);
    expect(run?.outputBytes).toBeGreaterThan(500_000);
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(64 * 1024);
    expect(output.startsWith('line 1 of a long listing\r\nline 2 of')).toBe(true);
    expect(output.endsWith('line 20000 of a long listing\r\n')).toBe(true);
  });

  it('holds the global concurrency limit', async () => {
    const engine = await engineWith({ transport, devices: 6, limits: { concurrency: 2 } });

    const runs = await engine.runJob(jobNow(deviceIds(engine), countedScript(':delay 300ms')));

    expect(runs.every((run) => run.state === 'succeeded')).toBe(true);
    expect(maxOverlap(runs)).toBe(2);
  });

  it('holds the job maxConcurrency limit', async () => {
    const engine = await engineWith({ transport, devices: 6 });
    const job = jobNow(deviceIds(engine), ':delay 300ms', { limits: { maxConcurrency: 3 } });

    const runs = await engine.runJob(job);

    expect(runs.every((run) => run.state === 'succeeded')).toBe(true);
    expect(maxOverlap(runs)).toBe(3);
  });

  it('never overlaps two jobs on one device', async () => {
    const engine = await engineWith({ transport, devices: 2 });
    const ids = deviceIds(engine);
    const first = jobNow(ids, countedScript(':delay 300ms'));
    const second = jobNow(ids, countedScript(':delay 300ms'));

    engine.startJob(first);
    engine.startJob(second);
    await engine.runner.whenIdle();

    for (const id of ids) {
      const runs = [first, second].map((job) => engine.store.runs.get(job.id, id) as Run);
      expect(runs.map((run) => run.state)).toEqual(['succeeded', 'succeeded']);
      expect(maxOverlap(runs)).toBe(1);
      expect(engine.scriptRuns(id)).toBe(2);
    }

    const all = [first, second].flatMap((job) => engine.store.runs.list(job.id));
    expect(maxOverlap(all)).toBe(2);
  });

  it('skips the rest after max errors', async () => {
    const engine = await engineWith({ transport, devices: 5 });
    const job = jobNow(deviceIds(engine), countedScript('/interface set nonexistent mtu=1500'), {
      limits: { maxConcurrency: 1, maxErrors: 2 },
    });

    const runs = await engine.runJob(job);

    expect(runs.map((run) => run.state)).toEqual([
      'failed',
      'failed',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(runs.map((run) => engine.scriptRuns(run.deviceId))).toEqual([1, 1, 0, 0, 0]);
  });

  it('times out a run over its limit', async () => {
    const engine = await engineWith({ transport, devices: 1 });
    const [id = ''] = deviceIds(engine);
    const job = jobNow([id], ':put "started"\r\n:delay 30s', { limits: { runTimeoutMs: 700 } });

    const [run] = await engine.runJob(job);

    expect(run?.state).toBe('timed_out');
    expect(run?.reasonCode).toBe('TIMEOUT');
    expect(engine.store.jobs.get(job.id)?.verdict).toBe('failed');
  });

  it('cancels running and queued runs', async () => {
    const engine = await engineWith({ transport, devices: 3, limits: { concurrency: 1 } });
    const ids = deviceIds(engine);
    const job = jobNow(ids, countedScript(':delay 30s'));
    engine.startJob(job);
    await until(() => engine.scriptRuns(ids[0] ?? '') === 1);

    const outcome = engine.runner.cancel(job.id);
    await engine.runner.whenIdle();
    const runs = byDevice(engine.store.runs.list(job.id));

    expect(outcome.runningDeviceIds).toEqual([ids[0]]);
    expect(Object.values(runs).map((run) => run.state)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(Object.values(runs).map((run) => run.reasonCode)).toEqual([
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
    ]);
    expect(ids.map((id) => engine.scriptRuns(id))).toEqual([1, 0, 0]);
    expect(runs[ids[0] ?? '']?.startedAt).toBeDefined();
    expect(runs[ids[1] ?? '']?.startedAt).toBeUndefined();
  });

  it('expires runs queued behind the limit', async () => {
    const engine = await engineWith({ transport, devices: 4, limits: { concurrency: 1 } });
    const ids = deviceIds(engine);
    const job = jobNow(ids, countedScript(':delay 1s'), { expiresAt: systemClock.now() + 1500 });

    engine.startJob(job);
    await until(() => engine.scriptRuns(ids[0] ?? '') === 1);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, job.expiresAt - Date.now())));
    engine.runner.expire(job.id);
    await engine.runner.whenIdle();
    const runs = byDevice(engine.store.runs.list(job.id));
    const last = runs[ids[3] ?? ''];

    expect(runs[ids[0] ?? '']?.state).toBe('succeeded');
    expect(last?.state).toBe('failed');
    expect(last?.reasonCode).toBe('EXPIRED');
    expect(engine.scriptRuns(ids[3] ?? '')).toBe(0);
    expect(
      Object.values(runs).every((run) => run.state !== 'pending' && run.state !== 'running'),
    ).toBe(true);
  });

  it('stores backup before the script', async () => {
    const engine = await engineWith({ transport, devices: 1 });
    const [id = ''] = deviceIds(engine);
    const job = jobNow([id], countedScript('/system identity set name=after-job'), {
      makeBackup: true,
    });

    const [run] = await engine.runJob(job);
    const backup = engine.store.backups.get(job.id, id);

    expect(run?.state).toBe('succeeded');
    expect(backup?.config).toContain('/system identity');
    expect(backup?.config).not.toContain('after-job');
    expect(engine.fleet.device(id).model.identity).toBe('after-job');
  });

  it('fails the run when the backup fails', async () => {
    const fleetDevices: Array<{ id: string; enableCloseMidReply(): void }> = [];
    // The device cuts every reply after the session opened, so /export fails part way.
    const openThenBreak: OpenSession = async (device, context) => {
      const session = await openSession(device, context);
      fleetDevices.find((item) => item.id === device.id)?.enableCloseMidReply();
      return session;
    };
    const engine = await engineWith({ transport, devices: 1, openSession: openThenBreak });
    const [id = ''] = deviceIds(engine);
    fleetDevices.push({
      id,
      enableCloseMidReply: () => engine.fleet.device(id).faults.enable('close-mid-reply'),
    });

    const [run] = await engine.runJob(
      jobNow([id], countedScript(':put "never"'), { makeBackup: true }),
    );

    expect(run?.state).toBe('failed');
    expect(run?.reasonCode).toBe('BACKUP_FAILED');
    expect(engine.scriptRuns(id)).toBe(0);
    expect(engine.store.backups.get(run?.jobId ?? '', id)).toBeUndefined();
  });

  it('interrupts runs at shutdown after the drain', async () => {
    const engine = await engineWith({ transport, devices: 1, limits: { shutdownDrainMs: 200 } });
    const [id = ''] = deviceIds(engine);
    const job = jobNow([id], countedScript(':delay 30s'));
    engine.startJob(job);
    await until(() => engine.scriptRuns(id) === 1);

    await engine.runner.stop();

    expect(engine.store.runs.get(job.id, id)?.state).toBe('interrupted');
    expect(engine.store.runs.get(job.id, id)?.reasonCode).toBe('INTERRUPTED');
  });

  it('reports a silent device as unreachable', async () => {
    const engine = await engineWith({
      transport,
      devices: 1,
      deviceOptions: { faults: ['silent'] },
      limits: { connectTimeoutMs: 300 },
    });
    const [id = ''] = deviceIds(engine);

    const [run] = await engine.runJob(jobNow([id], countedScript(':put "never"')));

    expect(run?.state).toBe('failed');
    expect(run?.reasonCode).toBe('DEVICE_UNREACHABLE');
    expect(engine.scriptRuns(id)).toBe(0);
  });

  it('records a login before a hang', async () => {
    const engine = await engineWith({ transport, devices: 1, limits: { commandTimeoutMs: 300 } });
    const [id = ''] = deviceIds(engine);
    await engine.runJob(jobNow([id], countedScript(':put "first"')));
    const identifiedAt = engine.store.devices.facts(id)?.lastSeenAt ?? 0;
    engine.fleet.device(id).faults.enable('hang');

    const [run] = await engine.runJob(jobNow([id], countedScript(':put "never"')));
    await engine.store.groupCommit.write('waiting for queued writes', () => undefined);
    const lastLoginAt = engine.store.devices.lastLoginAt(id);

    expect(run?.reasonCode).toBe('TIMEOUT');
    expect(lastLoginAt).toBeGreaterThan(identifiedAt);
    expect(engine.store.devices.facts(id)?.lastSeenAt).toBe(identifiedAt);
    expect(deviceReachable(lastLoginAt, run?.startedAt)).toBe(true);
  });

  it('records a login without any facts', async () => {
    const engine = await engineWith({ transport, devices: 1, limits: { commandTimeoutMs: 300 } });
    const [id = ''] = deviceIds(engine);
    engine.fleet.device(id).faults.enable('hang');

    const [run] = await engine.runJob(jobNow([id], countedScript(':put "never"')));
    await engine.store.groupCommit.write('waiting for queued writes', () => undefined);
    const lastLoginAt = engine.store.devices.lastLoginAt(id);

    expect(run?.reasonCode).toBe('TIMEOUT');
    expect(engine.store.devices.facts(id)).toBeUndefined();
    expect(lastLoginAt).toBeGreaterThanOrEqual(run?.startedAt ?? Number.POSITIVE_INFINITY);
    expect(deviceReachable(lastLoginAt, run?.startedAt)).toBe(true);
  });

  it('reports rejected login', async () => {
    const engine = await engineWith({
      transport,
      devices: 1,
      deviceOptions: { faults: ['auth-fail'] },
    });
    const [id = ''] = deviceIds(engine);

    const [run] = await engine.runJob(jobNow([id], countedScript(':put "never"')));

    await engine.store.groupCommit.write('waiting for queued writes', () => undefined);
    const lastLoginAt = engine.store.devices.lastLoginAt(id);

    expect(run?.state).toBe('failed');
    expect(run?.reasonCode).toBe('AUTH_FAILED');
    expect(engine.scriptRuns(id)).toBe(0);
    expect(lastLoginAt).toBeUndefined();
    expect(deviceReachable(lastLoginAt, run?.startedAt)).toBe(false);
  });

  it('keeps a result until space returns', async () => {
    const engine = await engineWith({ transport, devices: 1 });
    const [id = ''] = deviceIds(engine);
    const script = countedScript(
      ':delay 300ms\r\n:for i from=1 to=4000 do={:put "line $i of the output"}',
    );
    const job = jobNow([id], script);
    engine.startJob(job);
    await until(() => engine.scriptRuns(id) === 1);

    fillDatabase(engine.store.database);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(engine.store.runs.get(job.id, id)?.state).toBe('running');
    expect(thrownCode(() => engine.store.acceptJob(jobNow([id], 'x'.repeat(8192))))).toBe(
      'STORE_FULL',
    );

    freeDatabase(engine.store.database);
    await engine.runner.whenIdle();
    const run = engine.store.runs.get(job.id, id);

    expect(run?.state).toBe('succeeded');
    expect(run?.output?.endsWith('line 4000 of the output\r\n')).toBe(true);
    expect(engine.scriptRuns(id)).toBe(1);
  });
});

/** Command timeout of the hung-device tests; each run must end long before it fires. */
const HUNG_COMMAND_TIMEOUT_MS = 30_000;

/** Upper bound on how long a cancelled or stopped run may take to end, in milliseconds. */
const PROMPT_END_MS = 5000;

describe.each(['api', 'api-ssl', 'ssh'] as const)('Runner abort over %s', (transport) => {
  /** Creates an engine whose one device accepts the login and never replies to a command. */
  async function hungEngine(): Promise<FleetEngine> {
    return engineWith({
      transport,
      devices: 1,
      limits: { commandTimeoutMs: HUNG_COMMAND_TIMEOUT_MS, shutdownDrainMs: 100 },
      deviceOptions: { faults: ['hang'] },
    });
  }

  /** Starts a job on the hung device and waits until its run is reading the device facts. */
  async function startHungRun(engine: FleetEngine): Promise<string> {
    const [id = ''] = deviceIds(engine);
    const job = jobNow([id], countedScript(':put "never"'));
    engine.startJob(job);
    await until(() => engine.store.runs.list(job.id)[0]?.state === 'running');
    // Connect and login take a few milliseconds on loopback; the facts read then hangs.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return job.id;
  }

  it('cancels a run stuck before its script', async () => {
    const engine = await hungEngine();
    const jobId = await startHungRun(engine);

    const cancelledAt = Date.now();
    engine.runner.cancel(jobId);
    await engine.runner.whenIdle();
    const [run] = engine.store.runs.list(jobId);

    expect(Date.now() - cancelledAt).toBeLessThan(PROMPT_END_MS);
    expect(run?.state).toBe('cancelled');
    expect(run?.reasonCode).toBe('CANCELLED');
  });

  it('interrupts a stuck run at shutdown', async () => {
    const engine = await hungEngine();
    const jobId = await startHungRun(engine);

    const stoppedAt = Date.now();
    await engine.runner.stop();
    const [run] = engine.store.runs.list(jobId);

    expect(Date.now() - stoppedAt).toBeLessThan(PROMPT_END_MS);
    expect(run?.state).toBe('interrupted');
  });
});
