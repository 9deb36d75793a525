import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { SecretCache } from '../../src/config/secret-cache.js';
import { readFileBytes } from '../../src/config/secrets.js';
import type { DeviceConfig } from '../../src/devices/types.js';
import { type ConfigDirectory, makeConfigDirectory } from '../support/config-files.js';
import { makeDevice } from '../support/devices.js';
import { rejectedError } from '../support/errors.js';
import { ManualClock } from '../support/manual-clock.js';

let directory: ConfigDirectory;
let clock: ManualClock;
/** Files the cache under test read from disk, in order. */
let reads: string[];
let cache: SecretCache;

beforeEach(async () => {
  directory = await makeConfigDirectory();
  clock = new ManualClock();
  reads = [];
  cache = new SecretCache({
    clock,
    maxAgeMs: 5000,
    read: (file) => {
      reads.push(file);
      return readFileBytes(file);
    },
  });
});

afterEach(async () => {
  await directory.remove();
});

function device(id: string, passwordFile: string): DeviceConfig {
  return makeDevice(id, { passwordFile });
}

describe('SecretCache', () => {
  it('shares one read among concurrent runs', async () => {
    const passwordFile = await directory.writeSecret('shared', 'one\n');

    const credentials = await Promise.all(
      ['r1', 'r2', 'r3'].map((id) => cache.readCredentials(device(id, passwordFile))),
    );

    expect(credentials.map((entry) => entry.password)).toEqual(['one', 'one', 'one']);
    expect(reads).toEqual([passwordFile]);
  });

  it('keeps a file until its age runs out', async () => {
    const passwordFile = await directory.writeSecret('rotated', 'old\n');
    await cache.readCredentials(device('r1', passwordFile));
    await writeFile(passwordFile, 'new\n');

    clock.advance(4999);
    const before = await cache.readCredentials(device('r1', passwordFile));
    clock.advance(1);
    const after = await cache.readCredentials(device('r1', passwordFile));

    expect(before.password).toBe('old');
    expect(after.password).toBe('new');
  });

  it('reads again after forget', async () => {
    const passwordFile = await directory.writeSecret('reloaded', 'old\n');
    await cache.readCredentials(device('r1', passwordFile));
    await writeFile(passwordFile, 'new\n');

    cache.forget();

    expect((await cache.readCredentials(device('r1', passwordFile))).password).toBe('new');
  });

  it('reads again after the clock went back', async () => {
    // A wall clock that an administrator or NTP sets back; ManualClock only moves forward.
    let nowMs = clock.now();
    const wallClock: Clock = {
      now: () => nowMs,
      setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    };
    const settable = new SecretCache({ clock: wallClock, maxAgeMs: 5000 });
    const passwordFile = await directory.writeSecret('clock', 'old\n');
    await settable.readCredentials(device('r1', passwordFile));
    await writeFile(passwordFile, 'new\n');

    nowMs -= 60_000;

    expect((await settable.readCredentials(device('r1', passwordFile))).password).toBe('new');
  });

  it('does not keep a failed read', async () => {
    const passwordFile = path.join(directory.dir, 'late');
    const failure = await rejectedError(cache.readCredentials(device('r1', passwordFile)));
    await writeFile(passwordFile, 'arrived\n');

    const credentials = await cache.readCredentials(device('r1', passwordFile));

    expect(failure.code).toBe('SECRET_UNREADABLE');
    expect(credentials.password).toBe('arrived');
  });

  it('names each device of a shared file', async () => {
    const passwordFile = path.join(directory.dir, 'absent');

    const failures = await Promise.all(
      ['r1', 'r2'].map((id) => rejectedError(cache.readCredentials(device(id, passwordFile)))),
    );

    expect(failures.map((failure) => failure.details.owner)).toEqual(['device r1', 'device r2']);
    expect(reads).toEqual([passwordFile]);
  });

  it('rejects an empty file for every device', async () => {
    const passwordFile = await directory.writeSecret('empty', '');

    const first = await rejectedError(cache.readCredentials(device('r1', passwordFile)));
    const second = await rejectedError(cache.readCredentials(device('r2', passwordFile)));

    expect(first.code).toBe('SECRET_UNREADABLE');
    expect(second.code).toBe('SECRET_UNREADABLE');
  });
});
