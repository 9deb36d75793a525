import { describe, expect, test } from 'vitest';
import { buildDevice, runScript } from '../../support/simulated-device.js';

async function output(source: string): Promise<string> {
  const run = await runScript(buildDevice(), source);
  if (run.failure !== undefined) {
    throw new Error(run.failure.message);
  }

  return run.output.replaceAll('\r\n', '\n');
}

async function failure(source: string): Promise<string | undefined> {
  const run = await runScript(buildDevice(), source);
  return run.failure?.message;
}

describe('expressions', () => {
  test.each([
    [':put (7 / 2)', '3'],
    [':put (7 % 4)', '3'],
    [':put (-3 + 1)', '-2'],
    [':put (2 + 3 * 4)', '14'],
    [':put ((2 + 3) * 4)', '20'],
    [':put (1 < 2 && 3 > 4)', 'false'],
    [':put (1 < 2 || 3 > 4)', 'true'],
    [':put (!true)', 'false'],
    [':put (not false)', 'true'],
    [':put (1 = 1 and 2 != 3)', 'true'],
    [':put ("abc" < "abd")', 'true'],
    [':put (5 <= 5)', 'true'],
    [':put (192.0.2.1 + 5)', '192.0.2.6'],
    [':put (192.0.2.9 & 255.255.255.0)', '192.0.2.0'],
    [':put (1d - 1h)', '23:00:00'],
    [':put (2m * 3)', '00:06:00'],
    [':put 500ms', '00:00:00.500'],
    [':put 1w2d', '1w2d00:00:00'],
    [':put 0x10', '16'],
    [':put (1 << 4)', '16'],
    [':put ({1;2} , {3})', '1;2;3'],
    [':put [:typeof (1 , 2)]', 'array'],
    [':put [:typeof [:nothing]]', 'nothing'],
    [':local x; :put [:typeof $x]', 'nil'],
    [':put [:typeof $undefinedName]', 'nothing'],
    [':put [:typeof true]', 'bool'],
    [':put [:typeof "1"]', 'str'],
    [':put [:tobool "yes"]', 'true'],
    [':put [:toip "192.0.2.4"]', '192.0.2.4'],
    [':put [:totime "01:00:00"]', '01:00:00'],
    [':put [:toid "*1F"]', '*1F'],
    [':put [:len {1;2;a=3}]', '3'],
    [':put ("a" . "b" . "c")', 'abc'],
    [':put ("x" ~ "[0-9]")', 'false'],
    [':local "my var" 5; :put $"my var"', '5'],
    [':put "cost 5$"', 'cost 5$'],
  ])('%s', async (source, expected) => {
    expect(await output(source)).toBe(`${expected}\n`);
  });
});

describe('commands', () => {
  test('global survives between runs', async () => {
    const device = buildDevice();
    await runScript(device, ':global counter 41');
    const run = await runScript(
      device,
      ':global counter; :set counter ($counter + 1); :put $counter',
    );
    expect(run.output).toBe('42\r\n');
  });

  test('environment lists globals', async () => {
    const device = buildDevice();
    await runScript(device, ':global site "north"');
    const run = await runScript(
      device,
      ':put [/system script environment get [find name=site] value]',
    );
    expect(run.output).toBe('north\r\n');
  });

  test('address list property gets an array', async () => {
    const source = [
      '/ip dns set servers=1.1.1.1,8.8.8.8',
      ':put [/ip dns get servers]',
      ':put [:typeof [/ip dns get servers]]',
      ':put [:len [/ip dns get servers]]',
      ':put [:pick [/ip dns get servers] 1]',
    ].join('\n');
    expect(await output(source)).toBe('1.1.1.1;8.8.8.8\narray\n2\n8.8.8.8\n');
  });

  test('local is scoped to its block', async () => {
    expect(await output('{ :local inner 1 }\n:put [:typeof $inner]')).toBe('nothing\n');
  });

  test('functions take positional and named arguments', async () => {
    const source = [
      ':local greet do={ :return ("hello " . $1 . " from " . $site) }',
      ':put [$greet "bob" site=north]',
    ].join('\n');
    expect(await output(source)).toBe('hello bob from north\n');
  });

  test('return without value fails', async () => {
    expect(await failure(':local f do={ :return }\n$f')).toBe(
      'missing value(s) of argument(s) value',
    );
  });

  test('non-boolean condition fails', async () => {
    expect(await failure(':if ("maybe") do={ :put 1 }')).toBe('conditional not boolean');
  });

  test('resolve fails without a network', async () => {
    expect(await failure(':put [:resolve "example.com"]')).toBe('failure: dns server failure');
  });

  test('on-error does not catch interrupts', async () => {
    const device = buildDevice();
    const controller = new AbortController();
    controller.abort();
    const run = await runScript(
      device,
      ':do { :put 1 } on-error={ :put 2 }',
      'ssh',
      controller.signal,
    );
    expect(run).toEqual({ output: '', failure: { kind: 'runtime', message: 'interrupted' } });
  });

  test('execute as-string captures output', async () => {
    expect(await output(':put [:execute script=":put inner" as-string]')).toBe('inner\n\n');
  });

  test('parse builds callable code', async () => {
    expect(await output(':local code [:parse ":put parsed"]\n$code')).toBe('parsed\n');
  });

  test('unknown log level fails', async () => {
    expect(await failure(':log loud "x"')).toBe('bad command name loud');
  });

  test('missing required property fails', async () => {
    expect(await failure('/ip address add interface=ether1')).toBe(
      'missing value(s) of argument(s) address',
    );
  });

  test('invalid enum value fails', async () => {
    expect(await failure('/ip firewall filter add chain=forward action=allow')).toBe(
      'input does not match any value of action',
    );
  });

  test('out of range number fails', async () => {
    expect(await failure('/ip service set ssh port=70000')).toBe(
      'value of port out of range (1..65535)',
    );
  });

  test('place-before inserts in order', async () => {
    const source = [
      '/ip firewall filter add chain=forward action=drop comment=last',
      '/ip firewall filter add chain=forward action=accept comment=first place-before=0',
      ':foreach r in=[/ip firewall filter find] do={ :put [/ip firewall filter get $r comment] }',
    ].join('\n');
    expect(await output(source)).toBe('first\nlast\n');
  });

  test('where with regex and in', async () => {
    const source = [
      '/ip firewall address-list add list=a address=192.0.2.5',
      '/ip firewall address-list add list=b address=198.51.100.5',
      ':put [:len [/ip firewall address-list find where address in 192.0.2.0/24]]',
      ':put [:len [/ip firewall address-list find where list~"^[ab]\\$"]]',
    ].join('\n');
    expect(await output(source)).toBe('1\n2\n');
  });

  test('enable and disable toggle', async () => {
    const source =
      '/ip service disable ssh\n:put [/ip service get ssh disabled]\n/ip service enable ssh\n:put [/ip service get ssh disabled]';
    expect(await output(source)).toBe('true\nfalse\n');
  });
});
