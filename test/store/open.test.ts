import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ErrorCode } from '../../src/errors.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { Store } from '../../src/store/store.js';
import { thrownCode } from '../support/errors.js';
import { makeJob, TEST_EPOCH } from '../support/jobs.js';
import { asUnprivilegedUser, makeStoreDirectory } from '../support/temp-store.js';

let directory: ReturnType<typeof makeStoreDirectory>;
const opened: Store[] = [];

beforeEach(() => {
  directory = makeStoreDirectory();
});

afterEach(() => {
  for (const store of opened.splice(0)) {
    store.close();
  }

  directory.remove();
});

function open(file = directory.file): Store {
  const store = Store.open(file, { busyTimeoutMs: 50 });
  opened.push(store);
  return store;
}

const DEVICE_FACTS = {
  version: '7.18 (stable)',
  board: 'RB5009UG+S+',
  identity: 'branch-1',
  architecture: 'arm64',
};

function openErrorCode(file = directory.file): ErrorCode {
  return thrownCode(() => open(file));
}

/** Creates a database that some other program made, closing it again. */
function writeForeignDatabase(file: string, applicationId: number): void {
  const db = new Database(file);
  db.pragma(`application_id = ${applicationId}`);
  db.exec('CREATE TABLE notes (text TEXT)');
  db.close();
}

describe('Store.open', () => {
  it('creates database with durable settings', () => {
    const db = open().database;

    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
  });

  it('creates a missing directory', () => {
    const file = path.join(directory.dir, 'state', 'nested', 'agent.db');

    open(file);

    expect(existsSync(file)).toBe(true);
  });

  it('keeps data across reopen', () => {
    const job = makeJob();
    const first = open();
    first.acceptJob(job);
    first.close();

    const second = open();

    expect(second.jobs.get(job.id)?.script).toBe(job.script);
  });

  it('adds the login table to an older store', () => {
    const older = open();
    older.devices.recordFacts('r1', DEVICE_FACTS, TEST_EPOCH);
    older.database.exec('DROP TABLE device_logins');
    older.database.pragma('user_version = 2');
    opened.pop()?.close();

    const upgraded = open();
    upgraded.devices.recordLogin('r1', TEST_EPOCH + 1_000);

    expect(upgraded.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(upgraded.devices.lastLoginAt('r1')).toBe(TEST_EPOCH + 1_000);
    expect(upgraded.devices.facts('r1')?.lastSeenAt).toBe(TEST_EPOCH);
  });

  it('rejects a file of garbage as corrupt', () => {
    writeFileSync(directory.file, Buffer.alloc(16_384, 0x5a));

    expect(openErrorCode()).toBe('STORE_CORRUPT');
  });

  it('rejects damaged pages as corrupt', () => {
    const store = open();
    for (let index = 0; index < 20; index += 1) {
      store.acceptJob(makeJob({ script: `:put "${'x'.repeat(3000)}"` }));
    }
    store.close();
    const pageSize = 4096;
    const descriptor = openSync(directory.file, 'r+');
    writeSync(descriptor, Buffer.alloc(pageSize * 3, 0xff), 0, pageSize * 3, pageSize * 2);
    closeSync(descriptor);

    expect(openErrorCode()).toBe('STORE_CORRUPT');
  });

  it('rejects another program database untouched', () => {
    writeForeignDatabase(directory.file, 0x12345678);
    const before = readFileSync(directory.file);

    expect(openErrorCode()).toBe('STORE_FOREIGN');
    expect(readFileSync(directory.file).equals(before)).toBe(true);
  });

  it('rejects database without application id', () => {
    writeForeignDatabase(directory.file, 0);

    expect(openErrorCode()).toBe('STORE_FOREIGN');
  });

  it('rejects database from newer agent', () => {
    open().database.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    opened.pop()?.close();

    expect(openErrorCode()).toBe('STORE_TOO_NEW');
  });

  it('rejects second opener as locked', () => {
    open();

    expect(openErrorCode()).toBe('STORE_LOCKED');
  });

  it('rejects read-only file', () => {
    open().acceptJob(makeJob());
    opened.pop()?.close();
    chmodSync(directory.file, 0o444);

    expect(asUnprivilegedUser(() => openErrorCode())).toBe('STORE_READ_ONLY');
  });

  it('rejects read-only directory', () => {
    open().acceptJob(makeJob());
    opened.pop()?.close();
    chmodSync(directory.file, 0o666);
    chmodSync(directory.dir, 0o555);

    expect(asUnprivilegedUser(() => openErrorCode())).toBe('STORE_READ_ONLY');
  });

  it('rejects new file in read-only directory', () => {
    chmodSync(directory.dir, 0o555);

    expect(asUnprivilegedUser(() => openErrorCode())).toBe('STORE_READ_ONLY');
  });

  it('rejects uncreatable directory', () => {
    chmodSync(directory.dir, 0o555);
    const file = path.join(directory.dir, 'state', 'agent.db');

    expect(asUnprivilegedUser(() => openErrorCode(file))).toBe('STORE_READ_ONLY');
  });

  it('reopens after a read-only spell', () => {
    open().acceptJob(makeJob());
    opened.pop()?.close();
    chmodSync(directory.dir, 0o555);
    asUnprivilegedUser(() => openErrorCode());
    chmodSync(directory.dir, 0o755);

    expect(open().outbox.depth()).toBe(1);
  });
});
