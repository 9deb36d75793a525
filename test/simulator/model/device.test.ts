import { describe, expect, test } from 'vitest';
import { RouterOsDevice } from '../../../src/simulator/model/device.js';
import { trapOf } from '../../support/device-trap.js';
import { ManualClock } from '../../support/manual-clock.js';
import { api, buildDevice, field, runScript } from '../../support/simulated-device.js';

/** Lets pending promise callbacks run, so background jobs can finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('RouterOsDevice construction', () => {
  test('resource reports the board', async () => {
    const device = buildDevice({ board: 'rb5009', version: '7.18.2' });
    const { rows } = await api(device, '/system/resource/print', [
      '=.proplist=board-name,architecture-name,platform,version',
    ]);
    expect(rows[0]).toEqual([
      ['version', '7.18.2 (stable)'],
      ['architecture-name', 'arm64'],
      ['board-name', 'RB5009UG+S+'],
      ['platform', 'MikroTik'],
    ]);
  });

  test('CHR reports x86_64', async () => {
    const device = buildDevice({ board: 'chr', version: '6.49.10' });
    const run = await runScript(device, ':put [/system resource get architecture-name]');
    expect(run.output).toBe('x86_64\r\n');
  });

  test('same seed gives same details', () => {
    const first = new RouterOsDevice({ version: '7.17.2', seed: 'site-4' });
    const second = new RouterOsDevice({ version: '7.17.2', seed: 'site-4' });
    expect(first.profile).toEqual(second.profile);
  });

  test('invalid version is rejected', () => {
    expect(() => new RouterOsDevice({ version: 'seven' })).toThrow(TypeError);
  });

  test('idle device seeds no menus', () => {
    const device = buildDevice();
    expect(device.materialisedMenus()).toEqual([]);
  });

  test('rc versions parse', () => {
    const device = buildDevice({ version: '6.43rc4' });
    expect(device.version).toEqual({ text: '6.43rc4', major: 6, minor: 43, patch: 0, rc: 4 });
  });
});

describe('RouterOsDevice executions', () => {
  test('every origin counts', async () => {
    const device = buildDevice();
    await runScript(device, ':put 1');
    await api(device, '/execute', ['=script=:put 1', '=as-string=']);
    await api(device, '/system/script/add', ['=name=probe', '=source=:put 1']);
    await api(device, '/system/script/run', ['=number=probe']);
    await api(device, '/execute', ['=script=:put 1']);
    await settle();
    expect(device.executions).toBe(4);
  });

  test('syntax errors still count', async () => {
    const device = buildDevice();
    await runScript(device, 'foo');
    expect(device.executions).toBe(1);
  });
});

describe('RouterOsDevice scripts', () => {
  test('runtime failure keeps earlier output', async () => {
    const device = buildDevice();
    const run = await runScript(device, ':put "one"\n:error "stop here"\n:put "two"');
    expect(run).toEqual({ output: 'one\r\n', failure: { kind: 'runtime', message: 'stop here' } });
  });

  test('syntax error runs nothing', async () => {
    const device = buildDevice();
    const run = await runScript(device, ':put "one"\n:put (2');
    expect(run.output).toBe('');
    expect(run.failure).toEqual({
      kind: 'syntax',
      message: 'syntax error (line 2 column 8)',
      position: { line: 2, column: 8 },
    });
  });

  test('sshd failure is logged on 7.15', async () => {
    const device = buildDevice({ version: '7.15' });
    await runScript(device, ':error "x"', 'ssh');
    const { rows } = await api(device, '/log/print', ['=.proplist=message']);
    expect(rows).toEqual([
      [['message', 'executing script from sshd failed, please check it manually']],
    ]);
  });

  test('sshd failure is not logged on 7.14', async () => {
    const device = buildDevice({ version: '7.14.3' });
    await runScript(device, ':error "x"', 'ssh');
    const { rows } = await api(device, '/log/print');
    expect(rows).toEqual([]);
  });

  test('log command writes the log', async () => {
    const device = buildDevice();
    await runScript(device, ':log warning "disk nearly full"');
    const { rows } = await api(device, '/log/print', ['=.proplist=topics,message']);
    expect(rows).toEqual([
      [
        ['topics', 'script,warning'],
        ['message', 'disk nearly full'],
      ],
    ]);
  });

  test('stored script runs without output', async () => {
    const device = buildDevice();
    await api(device, '/system/script/add', ['=name=hello', '=source=:put "hi"; :global ran yes']);
    const { completion, rows } = await api(device, '/system/script/run', ['=number=hello']);
    expect(completion).toEqual({});
    expect(rows).toEqual([]);
    const check = await runScript(device, ':global ran; :put $ran');
    expect(check.output).toBe('yes\r\n');
  });

  test('stored script failure is a trap', async () => {
    const device = buildDevice();
    await api(device, '/system/script/add', ['=name=broken', '=source=/system script remove nope']);
    const trap = await trapOf(api(device, '/system/script/run', ['=number=broken']));
    expect([trap.message, trap.category]).toEqual(['no such item', 3]);
  });

  test('numbers follow the last print', async () => {
    const device = buildDevice();
    const source = [
      '/system script add name=a',
      '/system script add name=b',
      '/system script print',
      '/system script set 1 comment=second',
      ':put [/system script get b comment]',
    ].join('\n');
    const run = await runScript(device, source);
    expect(run.output.endsWith('second\r\n')).toBe(true);
  });

  test('print as-value returns items', async () => {
    const device = buildDevice();
    const run = await runScript(
      device,
      ':foreach s in=[/ip service print as-value where port<25] do={ :put ($s->"name") }',
    );
    expect(run.output).toBe('telnet\r\nftp\r\nssh\r\n');
  });

  test('count-only in substitution returns a number', async () => {
    const device = buildDevice();
    const run = await runScript(device, ':put ([/interface print count-only] * 2)');
    expect(run.output).toBe('8\r\n');
  });

  test('print terse lists every value', async () => {
    const device = buildDevice();
    const run = await runScript(
      device,
      '/system script add name=t source=":put 1"\n/system script print terse',
    );
    expect(run.output).toBe(
      ' 0   name=t owner=admin policy=ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon dont-require-permissions=no run-count=0 source=":put 1"\r\n',
    );
  });

  test('identity set changes the identity', async () => {
    const device = buildDevice();
    await api(device, '/system/identity/set', ['=name=core-1']);
    expect(device.identity).toBe('core-1');
  });

  test('RouterOS 6 reads space paths', async () => {
    const device = buildDevice({ version: '6.42' });
    const run = await runScript(
      device,
      '/ip service set telnet disabled=yes\n:put [/ip service get telnet disabled]',
    );
    expect(run.output).toBe('true\r\n');
  });
});

describe('RouterOsDevice files and jobs', () => {
  test('execute file writes the output', async () => {
    const device = buildDevice({ version: '6.49.10' });
    await runScript(device, ':execute script=":put \\"captured\\"" file=result');
    await settle();
    const { rows } = await api(device, '/file/print', [
      '?name=result.txt',
      '=.proplist=contents,size',
    ]);
    expect(rows).toEqual([
      [
        ['size', '10'],
        ['contents', 'captured\r\n'],
      ],
    ]);
  });

  test('contents omitted from 4096 bytes', async () => {
    const device = buildDevice({ version: '6.49.10' });
    const big = ':for i from=1 to=600 do={ :put "line $i" }';
    await api(device, '/execute', [`=script=${big}`, '=file=big']);
    await settle();
    const { rows } = await api(device, '/file/print', ['?name=big.txt']);
    expect(Number(field(rows[0], 'size'))).toBeGreaterThan(4096);
    expect(field(rows[0], 'contents')).toBeUndefined();
  });

  test('contents shown below 4096 bytes', async () => {
    const device = buildDevice({ version: '6.49.10' });
    await api(device, '/execute', ['=script=:put "small"', '=file=small']);
    await settle();
    const { rows } = await api(device, '/file/print', ['?name=small.txt']);
    expect(field(rows[0], 'contents')).toBe('small\r\n');
  });

  test('running job is listed', async () => {
    const clock = new ManualClock();
    const device = buildDevice({ clock });
    const { completion } = await api(device, '/execute', [
      '=script=:delay 10s; :put done',
      '=file=late',
    ]);
    const { rows } = await api(device, '/system/script/job/print', ['=.proplist=.id']);
    expect(rows).toEqual([[['.id', completion.ret ?? '']]]);
    clock.advance(10_000);
    await settle();
    const after = await api(device, '/system/script/job/print');
    expect(after.rows).toEqual([]);
  });

  test('removing a job stops it', async () => {
    const clock = new ManualClock();
    const device = buildDevice({ clock });
    const { completion } = await api(device, '/execute', [
      '=script=:delay 1h; :put done',
      '=file=never',
    ]);
    await api(device, '/system/script/job/remove', [`=.id=${completion.ret ?? ''}`]);
    await settle();
    const { rows } = await api(device, '/file/print', ['?name=never.txt', '=.proplist=contents']);
    expect(rows).toEqual([[['contents', 'interrupted\r\n']]]);
  });
});

describe('RouterOsDevice export', () => {
  test('UTF-8 bytes print as hex escapes', async () => {
    const device = buildDevice();
    const comment = Buffer.from('Büro', 'utf8').toString('latin1');
    await api(device, '/ip/firewall/address-list/add', [
      '=list=office',
      '=address=192.0.2.10',
      `=comment=${comment}`,
    ]);
    const run = await runScript(device, '/ip firewall address-list export');
    expect(run.output).toContain('add address=192.0.2.10 comment="B\\C3\\BCro" list=office\r\n');
  });

  test('terse export prefixes every line', async () => {
    const device = buildDevice();
    const run = await runScript(
      device,
      '/ip firewall filter add chain=input action=drop protocol=tcp dst-port=23\n/export terse',
    );
    expect(run.output).toContain(
      '/ip firewall filter add action=drop chain=input dst-port=23 protocol=tcp\r\n',
    );
  });

  test('export starts with the version', async () => {
    const device = buildDevice({ version: '6.49.10', clock: new ManualClock() });
    const run = await runScript(device, '/export');
    expect(run.output.split('\r\n')[0]).toBe('# jan/01/2026 00:00:00 by RouterOS 6.49.10');
  });

  test('exported script runs back', async () => {
    const device = buildDevice();
    await api(device, '/system/script/add', ['=name=quote', '=source=:put "a $b \\\\ c?"']);
    const exported = await runScript(device, '/system script export');
    const copy = buildDevice();
    const run = await runScript(copy, exported.output);
    expect(run.failure).toBeUndefined();
    const { rows } = await api(copy, '/system/script/print', ['=.proplist=source']);
    expect(rows).toEqual([[['source', ':put "a $b \\\\ c?"']]]);
  });
});

describe('RouterOsDevice reboot', () => {
  test('reboot calls the handler', async () => {
    const device = buildDevice();
    let calls = 0;
    device.onReboot(() => {
      calls += 1;
    });
    await api(device, '/system/reboot');
    expect(calls).toBe(1);
  });

  test('reboot resets uptime', async () => {
    const clock = new ManualClock();
    const device = buildDevice({ clock, uptimeSeconds: 90_000 });
    await runScript(device, '/system reboot');
    clock.advance(5_000);
    const run = await runScript(device, ':put [/system resource get uptime]');
    expect(run.output).toBe('00:00:05\r\n');
  });
});
