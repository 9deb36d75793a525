import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { ManualClock } from '../support/manual-clock.js';
import { openTempStore } from '../support/temp-store.js';

let clock: ManualClock;
let store: ReturnType<typeof openTempStore>;

beforeEach(() => {
  clock = new ManualClock(TEST_EPOCH);
  store = openTempStore({ clock });
});

afterEach(() => {
  store.dispose();
});

const FACTS = {
  version: '7.18.2 (stable)',
  board: 'RB5009UG+S+',
  identity: 'core-1',
  architecture: 'arm64',
};

describe('DeviceRecords', () => {
  it('returns nothing before first pin', () => {
    expect(store.devices.get('r1', 'ssh-host-key')).toBeUndefined();
  });

  it('pins on first use and keeps it', () => {
    store.devices.pin('r1', 'ssh-host-key', 'SHA256:first');

    store.devices.pin('r1', 'ssh-host-key', 'SHA256:second');

    expect(store.devices.get('r1', 'ssh-host-key')).toBe('SHA256:first');
    expect(store.devices.get('r1', 'tls-certificate')).toBeUndefined();
  });

  it('pins again after unpin', () => {
    store.devices.pin('r1', 'tls-certificate', 'aa');

    expect(store.devices.unpin('r1', 'tls-certificate')).toBe(true);
    store.devices.pin('r1', 'tls-certificate', 'bb');

    expect(store.devices.get('r1', 'tls-certificate')).toBe('bb');
  });

  it('records latest facts and last seen', () => {
    store.devices.recordFacts('r1', { ...FACTS, version: '7.17' }, TEST_EPOCH);
    store.devices.recordFacts('r1', FACTS, TEST_EPOCH + 60_000);

    expect(store.devices.facts('r1')).toEqual({ ...FACTS, lastSeenAt: TEST_EPOCH + 60_000 });
    expect(store.devices.facts('r2')).toBeUndefined();
  });

  it('returns no login before the first', () => {
    expect(store.devices.lastLoginAt('r1')).toBeUndefined();
  });

  it('keeps the latest login time', () => {
    store.devices.recordLogin('r1', TEST_EPOCH + 10_000);
    store.devices.recordLogin('r1', TEST_EPOCH + 5_000);

    expect(store.devices.lastLoginAt('r1')).toBe(TEST_EPOCH + 10_000);
    expect(store.devices.facts('r1')).toBeUndefined();
  });

  it('takes the later of facts and login', () => {
    store.devices.recordFacts('r1', FACTS, TEST_EPOCH);
    store.devices.recordLogin('r1', TEST_EPOCH + 60_000);

    expect(store.devices.lastLoginAt('r1')).toBe(TEST_EPOCH + 60_000);
    expect(store.devices.facts('r1')?.lastSeenAt).toBe(TEST_EPOCH);

    store.devices.recordFacts('r1', FACTS, TEST_EPOCH + 120_000);

    expect(store.devices.lastLoginAt('r1')).toBe(TEST_EPOCH + 120_000);
  });
});

describe('Backups', () => {
  it('stores export text per run', () => {
    const job = makeJob({ targets: ['r1'] });
    store.acceptJob(job);
    const backup = {
      jobId: job.id,
      deviceId: 'r1',
      capturedAt: TEST_EPOCH,
      config: '/ip address\nadd address=192.0.2.1/24\n',
    };

    store.backups.save(backup);

    expect(store.backups.get(job.id, 'r1')).toEqual(backup);
    expect(store.backups.get(job.id, 'r2')).toBeUndefined();
  });
});
