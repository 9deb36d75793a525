import { describe, expect, test } from 'vitest';
import { trapOf } from '../../support/device-trap.js';
import { api, buildDevice, field } from '../../support/simulated-device.js';

describe('API print', () => {
  test('rows start with .id', async () => {
    const device = buildDevice({ board: 'rb5009' });
    const { rows } = await api(device, '/ip/address/print');
    expect(rows[0]?.[0]).toEqual(['.id', '*1']);
  });

  test('proplist limits attributes', async () => {
    const device = buildDevice();
    const { rows } = await api(device, '/interface/print', ['=.proplist=name,type']);
    expect(rows[0]).toEqual([
      ['name', 'ether1'],
      ['type', 'ether'],
    ]);
  });

  test('query selects matching items', async () => {
    const device = buildDevice();
    const { rows } = await api(device, '/ip/service/print', ['?name=ssh']);
    expect(rows.map((row) => field(row, 'port'))).toEqual(['22']);
  });

  test('booleans are true and false', async () => {
    const device = buildDevice();
    const { rows } = await api(device, '/ip/service/print', ['?name=www-ssl']);
    expect(field(rows[0], 'disabled')).toBe('true');
  });

  test('singleton prints one row without id', async () => {
    const device = buildDevice({ identity: 'edge-7' });
    const { rows } = await api(device, '/system/identity/print');
    expect(rows).toEqual([[['name', 'edge-7']]]);
  });
});

describe('API add, set and remove', () => {
  test('add returns the new id', async () => {
    const device = buildDevice();
    const { completion } = await api(device, '/ip/firewall/filter/add', [
      '=chain=forward',
      '=action=drop',
    ]);
    expect(completion.ret).toBe('*1');
  });

  test('set by id changes the item', async () => {
    const device = buildDevice();
    await api(device, '/system/script/add', ['=name=probe', '=source=:put 1']);
    await api(device, '/system/script/set', ['=.id=*1', '=source=:put 2']);
    const { rows } = await api(device, '/system/script/print', ['=.proplist=source']);
    expect(rows).toEqual([[['source', ':put 2']]]);
  });

  test('remove by name deletes the item', async () => {
    const device = buildDevice();
    await api(device, '/system/script/add', ['=name=probe']);
    await api(device, '/system/script/remove', ['=numbers=probe']);
    const { rows } = await api(device, '/system/script/print');
    expect(rows).toEqual([]);
  });

  test('unknown interface is category 1', async () => {
    const device = buildDevice();
    const trap = await trapOf(
      api(device, '/ip/address/add', ['=address=192.0.2.1/24', '=interface=asdf']),
    );
    expect([trap.message, trap.category]).toEqual([
      'input does not match any value of interface',
      1,
    ]);
  });

  test('duplicate name fails', async () => {
    const device = buildDevice();
    await api(device, '/system/script/add', ['=name=probe']);
    const trap = await trapOf(api(device, '/system/script/add', ['=name=probe']));
    expect(trap.message).toBe('failure: already have such name');
  });

  test('unknown attribute is unknown parameter', async () => {
    const device = buildDevice();
    const trap = await trapOf(api(device, '/ip/firewall/filter/add', ['=chian=forward']));
    expect(trap.message).toBe('unknown parameter');
  });

  test('unknown menu is category 0', async () => {
    const device = buildDevice();
    const trap = await trapOf(api(device, '/ip/adress/print'));
    expect([trap.message, trap.category]).toEqual(['no such command or directory (adress)', 0]);
  });

  test('missing item is no such item', async () => {
    const device = buildDevice();
    const trap = await trapOf(api(device, '/system/script/remove', ['=.id=*9']));
    expect(trap.message).toBe('no such item');
  });
});

describe('API execute', () => {
  test('as-string returns output on 7.x', async () => {
    const device = buildDevice();
    const { completion } = await api(device, '/execute', [
      '=script=:put hello; :put [:len "abc"]',
      '=as-string=',
    ]);
    expect(completion.ret).toBe('hello\r\n3\r\n');
  });

  test('syntax error comes back as output', async () => {
    const device = buildDevice();
    const { completion } = await api(device, '/execute', ['=script=:put (1', '=as-string=']);
    expect(completion.ret).toBe('syntax error (line 1 column 8)');
  });

  test('runtime failure is a category 3 trap', async () => {
    const device = buildDevice();
    const trap = await trapOf(api(device, '/execute', ['=script=:error "boom"', '=as-string=']));
    expect([trap.message, trap.category]).toEqual(['boom', 3]);
  });

  test('as-string is unknown on 6.x', async () => {
    const device = buildDevice({ version: '6.49.10' });
    const trap = await trapOf(api(device, '/execute', ['=script=:put 1', '=as-string=']));
    expect(trap.message).toBe('unknown parameter');
  });

  test('6.x execute returns a job id', async () => {
    const device = buildDevice({ version: '6.49.10' });
    const { completion } = await api(device, '/execute', ['=script=:put 1']);
    expect(completion.ret).toMatch(/^\*[0-9A-F]+$/);
  });
});
