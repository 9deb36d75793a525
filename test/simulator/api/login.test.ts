import { afterEach, describe, expect, it } from 'vitest';

import { encodeSentence } from '../../../src/devices/api/codec.js';
import { challengeResponse } from '../../../src/simulator/fleet/users.js';
import { RawApiClient } from '../../support/api-client.js';
import { startApiService, TEST_PASSWORD, TEST_USER } from '../../support/api-service.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function connectTo(version: string): Promise<RawApiClient> {
  const { server, port } = await startApiService({ version });
  cleanups.push(() => server.close());
  const client = await RawApiClient.connect(port);
  cleanups.push(() => client.close());
  return client;
}

async function challengeLogin(client: RawApiClient, password: string): Promise<string[][]> {
  const [challengeReply] = await client.call(['/login']);
  const ret = challengeReply?.find((word) => word.startsWith('=ret='))?.slice(5) ?? '';
  const response = challengeResponse(password, Buffer.from(ret, 'hex'));
  return client.call(['/login', `=name=${TEST_USER}`, `=response=${response}`]);
}

const plainLogin = (client: RawApiClient, password: string) =>
  client.call(['/login', `=name=${TEST_USER}`, `=password=${password}`]);

describe('API login', () => {
  it('hands out a 32 hex challenge', async () => {
    const client = await connectTo('6.42');

    const replies = await client.call(['/login']);

    expect(replies).toHaveLength(1);
    expect(replies[0]?.[0]).toBe('!done');
    expect(replies[0]?.[1]).toMatch(/^=ret=[0-9a-f]{32}$/);
  });

  it('accepts MD5 response on 6.42', async () => {
    const client = await connectTo('6.42');

    expect(await challengeLogin(client, TEST_PASSWORD)).toEqual([['!done']]);
  });

  it('answers plain login with challenge on 6.42', async () => {
    const client = await connectTo('6.42');

    const replies = await plainLogin(client, TEST_PASSWORD);

    expect(replies[0]?.[1]).toMatch(/^=ret=[0-9a-f]{32}$/);
  });

  it('rejects wrong MD5 response on 6.42', async () => {
    const client = await connectTo('6.42');

    expect(await challengeLogin(client, 'wrong')).toEqual([
      ['!trap', '=message=cannot log in'],
      ['!done'],
    ]);
  });

  it('accepts both logins on 6.43rc', async () => {
    const first = await connectTo('6.43rc12');
    const second = await connectTo('6.43rc12');

    expect(await challengeLogin(first, TEST_PASSWORD)).toEqual([['!done']]);
    expect(await plainLogin(second, TEST_PASSWORD)).toEqual([['!done']]);
  });

  it.each(['6.49.10', '7.17', '7.18.2'])('accepts plain login on %s', async (version) => {
    const client = await connectTo(version);

    expect(await plainLogin(client, TEST_PASSWORD)).toEqual([['!done']]);
  });

  it.each(['6.45.1', '6.49.10', '7.18.2'])('rejects MD5 response on %s', async (version) => {
    const client = await connectTo(version);

    expect(await challengeLogin(client, TEST_PASSWORD)).toEqual([
      ['!trap', '=message=invalid user name or password (6)'],
      ['!done'],
    ]);
  });

  it('accepts MD5 response on 6.45.0', async () => {
    const client = await connectTo('6.45');

    expect(await challengeLogin(client, TEST_PASSWORD)).toEqual([['!done']]);
  });

  it.each(['6.49.10', '7.17'])('rejects wrong password on %s', async (version) => {
    const client = await connectTo(version);

    expect(await plainLogin(client, 'wrong')).toEqual([
      ['!trap', '=message=invalid user name or password (6)'],
      ['!done'],
    ]);
  });

  it('rejects unknown user', async () => {
    const client = await connectTo('7.17');

    const replies = await client.call(['/login', '=name=nobody', `=password=${TEST_PASSWORD}`]);

    expect(replies[0]).toEqual(['!trap', '=message=invalid user name or password (6)']);
  });

  it('echoes tag on login replies', async () => {
    const client = await connectTo('7.17');

    const replies = await client.call(['/login', `=name=${TEST_USER}`, '=password=x', '.tag=a1']);

    expect(replies).toEqual([
      ['!trap', '=message=invalid user name or password (6)', '.tag=a1'],
      ['!done', '.tag=a1'],
    ]);
  });

  it('rejects commands before login', async () => {
    const client = await connectTo('7.17');

    expect(await client.call(['/system/identity/print'])).toEqual([
      ['!trap', '=message=not logged in'],
      ['!done'],
    ]);
  });

  it('ends session after many commands before login', async () => {
    const client = await connectTo('7.17');
    for (let index = 0; index < 10; index++) {
      await client.call(['/system/identity/print']);
    }

    expect(await client.call(['/system/identity/print'])).toEqual([['!fatal', 'not logged in']]);
    await client.closed;
  });

  it('acts only after the empty word', async () => {
    const client = await connectTo('7.17');
    const sentence = Buffer.from([6, ...Buffer.from('/login'), 0]);

    client.socket.write(sentence.subarray(0, 7));
    const early = await client.isQuietFor(100);
    client.socket.write(sentence.subarray(7));

    expect(early).toBe(true);
    expect((await client.next())?.[0]).toBe('!done');
  });

  it('ends session on /quit', async () => {
    const client = await connectTo('7.17');

    expect(await client.call(['/quit'])).toEqual([['!fatal', 'session terminated on request']]);
    await client.closed;
  });

  it('ignores sentences after /quit', async () => {
    const client = await connectTo('7.17');

    client.socket.write(Buffer.concat([encodeSentence(['/quit']), encodeSentence(['/login'])]));

    expect(await client.next()).toEqual(['!fatal', 'session terminated on request']);
    expect(await client.next()).toBeUndefined();
  });

  it('closes on a reserved control byte', async () => {
    const client = await connectTo('7.17');

    client.socket.write(Buffer.from([0xf8]));
    await client.closed;

    expect(client.socket.destroyed).toBe(true);
  });
});
