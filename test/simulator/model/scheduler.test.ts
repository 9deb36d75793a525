import { describe, expect, test } from 'vitest';

import type { TimerHandle } from '../../../src/clock.js';

import type { RouterOsDevice } from '../../../src/simulator/model/device.js';
import type { Origin } from '../../../src/simulator/model/types.js';
import { trapOf } from '../../support/device-trap.js';
import { ManualClock } from '../../support/manual-clock.js';
import { api, buildDevice, field, runScript } from '../../support/simulated-device.js';

const MINUTE_MS = 60_000;

/** A manual clock that records the delay of every timer set on it, in milliseconds. */
class RecordingClock extends ManualClock {
  readonly delays: number[] = [];

  override setTimeout(callback: () => void, delayMs: number): TimerHandle {
    this.delays.push(delayMs);
    return super.setTimeout(callback, delayMs);
  }
}

/** Builds a device whose clock starts at 2026-01-01 00:00:00 UTC and moves only when advanced. */
function scheduledDevice(version = '7.17.2') {
  const clock = new RecordingClock(Date.parse('2026-01-01T00:00:00Z'));
  const device = buildDevice({ clock, version });
  return { clock, device };
}

/** Lets background jobs started by the scheduler run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Advances the clock and lets the scripts that fell due finish. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await settle();
}

/** Counts `/log` entries with the given message. */
async function logCount(device: RouterOsDevice, message: string): Promise<number> {
  const { rows } = await api(device, '/log/print', [`?message=${message}`]);
  return rows.length;
}

async function schedulerField(device: RouterOsDevice, name: string, property: string) {
  const { rows } = await api(device, '/system/scheduler/print', [`?name=${name}`]);
  return field(rows[0], property);
}

async function mustRun(device: RouterOsDevice, source: string): Promise<void> {
  const run = await runScript(device, source);
  expect(run.failure).toBeUndefined();
}

describe('scheduler timing', () => {
  test('interval item runs every interval', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=tick start-time=00:00:30 interval=1m on-event=":log info tick"',
    );

    await advance(clock, 29_000);
    expect(await logCount(device, 'tick')).toBe(0);

    await advance(clock, 1_000);
    expect(await logCount(device, 'tick')).toBe(1);

    await advance(clock, 2 * MINUTE_MS);
    expect(await logCount(device, 'tick')).toBe(3);
    expect(await schedulerField(device, 'tick', 'run-count')).toBe('3');
    expect(await schedulerField(device, 'tick', 'next-run')).toBe('2026-01-01 00:03:30');
  });

  test('zero interval runs once', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=once start-time=00:10:00 on-event=":log info once"',
    );
    expect(await schedulerField(device, 'once', 'next-run')).toBe('2026-01-01 00:10:00');

    await advance(clock, 10 * MINUTE_MS);
    await advance(clock, 24 * 60 * MINUTE_MS);

    expect(await logCount(device, 'once')).toBe(1);
    expect(await schedulerField(device, 'once', 'next-run')).toBeUndefined();
  });

  test('past start continues the interval', async () => {
    const { device } = scheduledDevice();

    await mustRun(
      device,
      '/system scheduler add name=five start-date=2025-12-31 start-time=23:59:00 interval=5m',
    );

    expect(await schedulerField(device, 'five', 'next-run')).toBe('2026-01-01 00:04:00');
  });

  test('start date defaults to today', async () => {
    const { device } = scheduledDevice();

    await mustRun(device, '/system scheduler add name=late start-time=3:00');

    expect(await schedulerField(device, 'late', 'start-date')).toBe('2026-01-01');
    expect(await schedulerField(device, 'late', 'start-time')).toBe('03:00:00');
  });

  test('RouterOS 6 dates name the month', async () => {
    const { device } = scheduledDevice('6.49.10');

    await mustRun(
      device,
      '/system scheduler add name=late start-date=jan/02/2026 start-time=04:00:00',
    );

    expect(await schedulerField(device, 'late', 'start-date')).toBe('jan/02/2026');
    expect(await schedulerField(device, 'late', 'next-run')).toBe('jan/02/2026 04:00:00');
  });

  test('invalid start time is rejected', async () => {
    const { device } = scheduledDevice();

    const trap = await trapOf(
      api(device, '/system/scheduler/add', ['=name=bad', '=start-time=25:00:00']),
    );

    expect(trap.message).toBe('invalid value for argument start-time');
  });

  test('distant run waits past the timer limit', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=monthly start-date=2026-01-31 start-time=00:00:00 on-event=":log info month"',
    );
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(2 ** 31 - 1);

    await advance(clock, 29 * 24 * 60 * MINUTE_MS);
    expect(await logCount(device, 'month')).toBe(0);

    await advance(clock, 24 * 60 * MINUTE_MS);
    expect(await logCount(device, 'month')).toBe(1);
  });
});

describe('scheduler startup items', () => {
  test('startup item runs after boot', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=boot start-time=startup on-event=":log info boot"',
    );
    await advance(clock, MINUTE_MS);
    expect(await logCount(device, 'boot')).toBe(0);

    device.reboot();
    await advance(clock, 2_999);
    expect(await logCount(device, 'boot')).toBe(0);

    await advance(clock, 1);
    expect(await logCount(device, 'boot')).toBe(1);
  });

  test('startup interval skips the boot run', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=beat start-time=startup interval=1m on-event=":log info beat"',
    );

    device.reboot();
    await advance(clock, 3_000);
    expect(await logCount(device, 'beat')).toBe(0);

    await advance(clock, MINUTE_MS);
    expect(await logCount(device, 'beat')).toBe(1);
  });

  test('reboot resets the run count', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(device, '/system scheduler add name=tick start-time=00:00:10 interval=10s');
    await advance(clock, 30_000);
    expect(await schedulerField(device, 'tick', 'run-count')).toBe('3');

    device.reboot();

    expect(await schedulerField(device, 'tick', 'run-count')).toBe('0');
  });
});

describe('scheduler runs', () => {
  test('runs count as scheduler executions', async () => {
    const { clock, device } = scheduledDevice();
    const origins: Origin[] = [];
    const runSource = device.runSource.bind(device);
    device.runSource = (script, options) => {
      origins.push(options.origin);
      return runSource(script, options);
    };
    await mustRun(device, '/system scheduler add name=tick start-time=00:01:00 interval=1m');
    const before = device.executions;

    await advance(clock, 2 * MINUTE_MS);

    expect(device.executions - before).toBe(2);
    expect(origins.slice(1)).toEqual(['scheduler', 'scheduler']);
  });

  test('on-event names a stored script', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(device, '/system script add name=backup source=":log info backed-up"');
    await mustRun(device, '/system scheduler add name=nightly start-time=00:05:00 on-event=backup');

    await advance(clock, 5 * MINUTE_MS);

    expect(await logCount(device, 'backed-up')).toBe(1);
    const run = await runScript(device, ':put [/system script get backup run-count]');
    expect(run.output).toBe('1\r\n');
  });

  test('items due together run in list order', async () => {
    const { clock, device } = scheduledDevice();
    for (const [name, message] of [
      ['zulu', 'first'],
      ['alpha', 'second'],
      ['mike', 'third'],
    ]) {
      await mustRun(
        device,
        `/system scheduler add name=${name} start-time=00:01:00 on-event=":log info ${message}"`,
      );
    }

    await advance(clock, MINUTE_MS);

    const { rows } = await api(device, '/log/print', ['?topics=script,info']);
    expect(rows.map((row) => field(row, 'message'))).toEqual(['first', 'second', 'third']);
  });

  test('disabled item does not run', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=tick start-time=00:01:00 interval=1m disabled=yes on-event=":log info tick"',
    );
    await advance(clock, 3 * MINUTE_MS);
    expect(await logCount(device, 'tick')).toBe(0);

    await mustRun(device, '/system scheduler enable tick');
    await advance(clock, MINUTE_MS);

    expect(await logCount(device, 'tick')).toBe(1);
  });

  test('removed item stops running', async () => {
    const { clock, device } = scheduledDevice();
    await mustRun(
      device,
      '/system scheduler add name=tick start-time=00:01:00 interval=1m on-event=":log info tick"',
    );
    await advance(clock, MINUTE_MS);

    await mustRun(device, '/system scheduler remove tick');
    await advance(clock, 5 * MINUTE_MS);

    expect(await logCount(device, 'tick')).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  test('item added over the API runs', async () => {
    const { clock, device } = scheduledDevice();
    await api(device, '/system/scheduler/add', [
      '=name=api-tick',
      '=start-time=00:00:05',
      '=on-event=:log info api-tick',
    ]);

    await advance(clock, 5_000);

    expect(await logCount(device, 'api-tick')).toBe(1);
  });
});
