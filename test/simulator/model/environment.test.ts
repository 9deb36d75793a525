import { describe, expect, test } from 'vitest';

import { api, buildDevice, field, runScript } from '../../support/simulated-device.js';

describe('script environment', () => {
  test('API print lists globals', async () => {
    const device = buildDevice();
    await runScript(device, ':global site "north"; :global hops {1;2}');

    const { rows } = await api(device, '/system/script/environment/print');

    expect(rows.map((row) => field(row, 'name'))).toEqual(['site', 'hops']);
    expect(rows.map((row) => field(row, 'value'))).toEqual(['north', '1;2']);
  });

  test('console print lists globals', async () => {
    const device = buildDevice();
    await runScript(device, ':global site "north"');

    const run = await runScript(device, '/system script environment print');

    expect(run.output).toContain('site');
    expect(run.output).toContain('north');
  });

  test('API remove deletes the global', async () => {
    const device = buildDevice();
    await runScript(device, ':global site "north"');
    const { rows } = await api(device, '/system/script/environment/print');

    await api(device, '/system/script/environment/remove', [`=.id=${field(rows[0], '.id')}`]);

    const run = await runScript(device, ':put [:typeof $site]');
    expect(run.output).toBe('nothing\r\n');
  });

  test('console remove deletes the global', async () => {
    const device = buildDevice();
    await runScript(device, ':global site "north"; :global keep 1');

    await runScript(device, '/system script environment remove [find name=site]');

    const { rows } = await api(device, '/system/script/environment/print');
    expect(rows.map((row) => field(row, 'name'))).toEqual(['keep']);
  });

  test('ids survive removing another global', async () => {
    const device = buildDevice();
    await runScript(device, ':global first 1; :global second 2; :global third 3');
    const before = await api(device, '/system/script/environment/print');
    const ids = before.rows.map((row) => field(row, '.id') ?? '');

    await api(device, '/system/script/environment/remove', [`=.id=${ids[0]}`]);
    await api(device, '/system/script/environment/remove', [`=.id=${ids[1]}`]);

    const after = await api(device, '/system/script/environment/print');
    expect(after.rows.map((row) => field(row, 'name'))).toEqual(['third']);
    expect(after.rows.map((row) => field(row, '.id'))).toEqual([ids[2]]);
  });

  test('new global gets an unused id', async () => {
    const device = buildDevice();
    await runScript(device, ':global first 1; :global second 2');
    const before = await api(device, '/system/script/environment/print');
    await api(device, '/system/script/environment/remove', [
      `=.id=${field(before.rows[0], '.id')}`,
    ]);

    await runScript(device, ':global third 3');

    const after = await api(device, '/system/script/environment/print');
    const ids = after.rows.map((row) => field(row, '.id'));
    expect(new Set([...ids, field(before.rows[0], '.id')]).size).toBe(3);
  });

  test('globals belong to one device', async () => {
    const first = buildDevice();
    const second = buildDevice();
    await runScript(first, ':global site "north"');

    const { rows } = await api(second, '/system/script/environment/print');

    expect(rows).toEqual([]);
  });

  test('reboot clears the environment', async () => {
    const device = buildDevice();
    await runScript(device, ':global site "north"');

    device.reboot();

    const { rows } = await api(device, '/system/script/environment/print');
    expect(rows).toEqual([]);
  });
});
