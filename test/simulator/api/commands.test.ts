import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { FleetFixture } from '../../support/fleet-fixture.js';

const fixture = new FleetFixture();

afterEach(() => fixture.cleanup());
afterAll(() => fixture.dispose());

async function loginTo(version: string) {
  const fleet = await fixture.start({ defaults: { version } });
  return { fleet, client: await fixture.login(fleet) };
}

describe('API commands', () => {
  it('returns rows then done', async () => {
    const { client } = await loginTo('7.17');

    expect(await client.call(['/system/identity/print'])).toEqual([
      ['!re', '=name=router-0001'],
      ['!done'],
    ]);
  });

  it('echoes the tag on every reply', async () => {
    const { client } = await loginTo('7.17');

    expect(await client.call(['/system/identity/print', '.tag=id7'])).toEqual([
      ['!re', '=name=router-0001', '.tag=id7'],
      ['!done', '.tag=id7'],
    ]);
  });

  it('sends !empty for empty print on 7.18', async () => {
    const { client } = await loginTo('7.18.2');

    expect(await client.call(['/ip/address/print', '?address=192.0.2.99/24', '.tag=q'])).toEqual([
      ['!empty', '.tag=q'],
      ['!done', '.tag=q'],
    ]);
  });

  it('sends only !done on 7.17', async () => {
    const { client } = await loginTo('7.17.2');

    expect(await client.call(['/ip/address/print', '?address=192.0.2.99/24'])).toEqual([['!done']]);
  });

  it('sends trap categories from the model', async () => {
    const { client } = await loginTo('7.17');

    expect(
      await client.call(['/ip/address/add', '=address=192.0.2.1/24', '=interface=nope']),
    ).toEqual([
      ['!trap', '=category=1', '=message=input does not match any value of interface'],
      ['!done'],
    ]);
  });

  it('returns execute output in ret', async () => {
    const { client } = await loginTo('7.18.2');

    expect(await client.call(['/execute', '=script=:put hello', '=as-string='])).toEqual([
      ['!done', '=ret=hello\r\n'],
    ]);
  });

  it('keeps every byte of a value', async () => {
    const { client } = await loginTo('7.17');
    const name = 'caf\xe9-\x01\xff';

    await client.call(['/system/identity/set', `=name=${name}`]);

    expect(await client.call(['/system/identity/print'])).toEqual([
      ['!re', `=name=${name}`],
      ['!done'],
    ]);
  });

  it('runs tagged commands concurrently', async () => {
    const { client } = await loginTo('7.17');

    client.send(['/ping', '=address=127.0.0.1', '.tag=ping']);
    const firstPing = await client.next();
    const identity = await client.call(['/system/identity/print', '.tag=id']);

    expect(firstPing?.[0]).toBe('!re');
    expect(firstPing?.at(-1)).toBe('.tag=ping');
    expect(identity.filter((sentence) => sentence.includes('.tag=id'))).toEqual([
      ['!re', '=name=router-0001', '.tag=id'],
      ['!done', '.tag=id'],
    ]);
  });

  it('cancels one tagged command', async () => {
    const { client } = await loginTo('7.17');
    client.send(['/ping', '=address=127.0.0.1', '.tag=ping']);
    await client.next();

    client.send(['/cancel', '=tag=ping', '.tag=c']);
    const replies = await collectUntil(client, ['!done', '.tag=c']);

    expect(replies.filter((sentence) => sentence[0] !== '!re')).toEqual([
      ['!trap', '=category=2', '=message=interrupted', '.tag=ping'],
      ['!done', '.tag=ping'],
      ['!done', '.tag=c'],
    ]);
  });

  it('cancels every other command', async () => {
    const { client } = await loginTo('7.17');
    client.send(['/ping', '=address=127.0.0.1', '.tag=a']);
    client.send(['/log/print', '=follow=', '.tag=b']);
    await client.next();

    client.send(['/cancel', '.tag=c']);
    const replies = await collectUntil(client, ['!done', '.tag=c']);
    const traps = replies.filter((sentence) => sentence[0] === '!trap');

    expect(traps).toHaveLength(2);
    expect(traps.map((sentence) => sentence.at(-1)).sort()).toEqual(['.tag=a', '.tag=b']);
  });

  it('traps a cancel of an unknown tag', async () => {
    const { client } = await loginTo('7.17');

    const replies = await client.call(['/cancel', '=tag=missing']);

    expect(replies.at(-1)).toEqual(['!done']);
    expect(replies[0]?.[0]).toBe('!trap');
  });

  it('closes without reply on reboot', async () => {
    const fleet = await fixture.start({ defaults: { version: '7.17', rebootDelayMs: 200 } });
    const client = await fixture.login(fleet);
    const device = fleet.device('router-0001');

    client.send(['/system/reboot']);
    const reply = await client.next();
    const stateWhileDown = device.state;
    await device.whenUp();
    const again = await fixture.login(fleet);

    expect(reply).toBeUndefined();
    expect(stateWhileDown).toBe('rebooting');
    expect((await again.call(['/system/identity/print']))[0]).toEqual(['!re', '=name=router-0001']);
  });
});

/** Reads replies until one equal to `last` arrives, and returns them all. */
async function collectUntil(
  client: Awaited<ReturnType<FleetFixture['login']>>,
  last: readonly string[],
): Promise<string[][]> {
  const replies: string[][] = [];
  for (;;) {
    const sentence = await client.next();
    if (sentence === undefined) {
      return replies;
    }

    replies.push(sentence);
    if (sentence.length === last.length && sentence.every((word, index) => word === last[index])) {
      return replies;
    }
  }
}
