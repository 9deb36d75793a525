import { describe, expect, test } from 'vitest';
import type { ApiRow } from '../../../src/simulator/model/types.js';
import { trapOf } from '../../support/device-trap.js';
import { ManualClock } from '../../support/manual-clock.js';
import { buildDevice, field, runScript } from '../../support/simulated-device.js';

function start(word: string, attributes: Array<[string, string]>, clock: ManualClock) {
  const device = buildDevice({ clock });
  const controller = new AbortController();
  const rows: ApiRow[] = [];
  const parts = word.split('/').filter((part) => part !== '');
  const command = parts.pop() ?? '';
  const done = device.execute(
    { path: parts, command, attributes, queries: [] },
    { signal: controller.signal, onRow: (row) => rows.push(row) },
  );
  return { device, controller, rows, done };
}

describe('never-ending commands', () => {
  test('ping without count streams until aborted', async () => {
    const clock = new ManualClock();
    const { controller, rows, done } = start('/ping', [['address', '192.0.2.1']], clock);
    for (let i = 0; i < 3; i += 1) {
      await clock.waitForTimers();
      clock.advance(1000);
    }

    await clock.waitForTimers();
    controller.abort();
    const trap = await trapOf(done);
    expect([trap.message, trap.category]).toEqual(['interrupted', 2]);
    expect(rows.map((row) => field(row, 'status'))).toEqual(['timeout', 'timeout', 'timeout']);
  });

  test('ping with count completes', async () => {
    const clock = new ManualClock();
    const { rows, done } = start(
      '/ping',
      [
        ['address', '127.0.0.1'],
        ['count', '2'],
      ],
      clock,
    );
    await clock.waitForTimers();
    clock.advance(1000);
    await expect(done).resolves.toEqual({});
    expect(rows.map((row) => field(row, 'received'))).toEqual(['1', '2']);
  });

  test('monitor-traffic streams until aborted', async () => {
    const clock = new ManualClock();
    const { controller, rows, done } = start(
      '/interface/monitor-traffic',
      [['interface', 'ether1']],
      clock,
    );
    await clock.waitForTimers();
    clock.advance(1000);
    await clock.waitForTimers();
    controller.abort();
    const trap = await trapOf(done);
    expect(trap.category).toBe(2);
    expect(rows).toHaveLength(2);
  });

  test('monitor-traffic once returns one row', async () => {
    const clock = new ManualClock();
    const { rows, done } = start(
      '/interface/monitor-traffic',
      [
        ['interface', 'ether1'],
        ['once', ''],
      ],
      clock,
    );
    await done;
    expect(rows).toHaveLength(1);
  });

  test('log follow streams new entries', async () => {
    const clock = new ManualClock();
    const { device, controller, rows, done } = start('/log/print', [['follow', '']], clock);
    await runScript(device, ':log info "first"; :log error "second"');
    controller.abort();
    await trapOf(done);
    expect(rows.map((row) => field(row, 'message'))).toEqual(['first', 'second']);
  });

  test('script ping without count is interrupted', async () => {
    const clock = new ManualClock();
    const device = buildDevice({ clock });
    const controller = new AbortController();
    const running = device.runScript(':put "start"\n/ping 192.0.2.1', {
      signal: controller.signal,
      origin: 'ssh',
    });
    await clock.waitForTimers();
    controller.abort();
    const run = await running;
    expect(run.failure).toEqual({ kind: 'runtime', message: 'interrupted' });
    expect(run.output.startsWith('start\r\n')).toBe(true);
  });

  test('script delay honours the signal', async () => {
    const clock = new ManualClock();
    const device = buildDevice({ clock });
    const controller = new AbortController();
    const running = device.runScript(':delay 500ms\n:put "after"\n:delay 1m\n:put "late"', {
      signal: controller.signal,
      origin: 'api',
    });
    await clock.waitForTimers();
    clock.advance(500);
    await clock.waitForTimers();
    controller.abort();
    const run = await running;
    expect(run).toEqual({
      output: 'after\r\n',
      failure: { kind: 'runtime', message: 'interrupted' },
    });
  });
});
