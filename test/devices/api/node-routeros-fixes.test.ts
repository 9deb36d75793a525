import { createServer } from 'node:net';

import { RouterOSAPI } from 'node-routeros';
import { afterEach, describe, expect, it } from 'vitest';

import { ApiTrapError } from '../../../src/devices/api/api-trap.js';
import { encodeSentence, SentenceDecoder } from '../../../src/devices/api/codec.js';
import { ApiConnection, type ApiConnectOptions } from '../../../src/devices/api/connection.js';
import { applyNodeRouterosFixes } from '../../../src/devices/api/node-routeros-fixes.js';
import type { FaultName } from '../../../src/simulator/fleet/faults.js';
import { apiConnectOptions } from '../../support/api-connection.js';
import { startApiService } from '../../support/api-service.js';
import { rejectedError } from '../../support/errors.js';
import { startScriptedApiServer, tagged } from '../../support/scripted-api-server.js';
import { buildDevice } from '../../support/simulated-device.js';

/**
 * Each fix of node-routeros 1.6.9 has a test here that fails without it: the process crashes
 * on an uncaught exception, a command never settles, or bytes arrive changed.
 */

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function openOn(port: number, overrides: Partial<ApiConnectOptions> = {}) {
  const connection = await ApiConnection.open(apiConnectOptions(port, overrides));
  cleanups.push(() => connection.close());
  return connection;
}

async function simulated(version: string, faults: FaultName[] = []) {
  const device = buildDevice({ version });
  const service = await startApiService({ version, device, faults });
  cleanups.push(() => service.server.close());
  return { ...service, device };
}

describe('fix: !empty replies', () => {
  it('reads an empty print on 7.18 as zero rows', async () => {
    const { port } = await simulated('7.18.2');
    const connection = await openOn(port);
    const reply = await connection.command(['/ip/address/print', '?address=192.0.2.1/24'], {
      timeoutMs: 3000,
    });
    expect(reply.rows).toEqual([]);
  });

  it('keeps the connection usable after !empty', async () => {
    const { port } = await simulated('7.18.2');
    const connection = await openOn(port);
    await connection.command(['/ip/address/print', '?address=192.0.2.1/24'], { timeoutMs: 3000 });
    const reply = await connection.command(['/system/identity/print'], { timeoutMs: 3000 });
    expect(reply.rows[0]?.name).toBe('lab-r1');
  });
});

describe('fix: replies for unregistered tags', () => {
  it('drops replies of a timed-out command', async () => {
    const { port } = await simulated('7.17.2');
    const connection = await openOn(port);
    const timedOut = connection.command(['/execute', '=script=:delay 2s', '=as-string='], {
      timeoutMs: 200,
    });
    expect((await rejectedError(timedOut)).code).toBe('TIMEOUT');

    // The device answered the cancelled command with `!trap interrupted` and `!done` for a tag
    // that is no longer registered; the connection still works afterwards.
    const reply = await connection.command(['/system/identity/print'], { timeoutMs: 3000 });
    expect(reply.rows[0]?.name).toBe('lab-r1');
  });
});

describe('fix: idle timeout', () => {
  it('keeps a command quiet past the idle timeout', async () => {
    const { port } = await simulated('7.17.2');
    const connection = await openOn(port, { idleTimeoutSeconds: 1 });
    const reply = await connection.command(
      ['/execute', '=script=:delay 1500ms; :put done', '=as-string='],
      { timeoutMs: 5000 },
    );
    expect(reply.done.ret).toBe('done\r\n');
  });
});

describe('fix: settling commands when the connection ends', () => {
  for (const fault of ['reboot', 'close-mid-reply', 'fatal'] as const) {
    it(`fails a command on ${fault} with CONNECTION_LOST`, async () => {
      const { port, faults } = await simulated('7.17.2');
      const connection = await openOn(port);
      faults.enable(fault);
      const lost = connection.command(['/system/identity/print'], { timeoutMs: 20_000 });
      expect((await rejectedError(lost)).code).toBe('CONNECTION_LOST');
    });
  }

  it('fails a command after the connection closed', async () => {
    const { port, faults } = await simulated('7.17.2');
    const connection = await openOn(port);
    faults.enable('reboot');
    await rejectedError(connection.command(['/system/identity/print'], { timeoutMs: 20_000 }));
    const late = connection.command(['/system/identity/print'], { timeoutMs: 20_000 });
    expect((await rejectedError(late)).code).toBe('CONNECTION_LOST');
  });
});

describe('fix: bytes carried unchanged', () => {
  it('stores € as byte 0x80', async () => {
    const { port, device } = await simulated('7.17.2');
    const connection = await openOn(port);
    await connection.command(['/system/identity/set', '=name=\u0080\u00f6'], { timeoutMs: 3000 });
    expect(device.identity).toBe('\u0080\u00f6');
  });

  it('returns byte 0x80 unchanged', async () => {
    const { port } = await simulated('7.17.2');
    const connection = await openOn(port);
    await connection.command(['/system/identity/set', '=name=\u0080\u00e6'], { timeoutMs: 3000 });
    const reply = await connection.command(['/system/identity/print'], { timeoutMs: 3000 });
    expect(reply.rows[0]?.name).toBe('\u0080\u00e6');
  });

  it('rejects a word that is not bytes', async () => {
    const { port } = await simulated('7.17.2');
    const connection = await openOn(port);
    const rejected = connection.command(['/system/identity/set', '=name=ж'], { timeoutMs: 3000 });
    expect((await rejectedError(rejected)).code).toBe('ENCODING_ERROR');
  });
});

describe('fix: API-SSL default port', () => {
  it('defaults RouterOSAPI with tls to 8729', () => {
    applyNodeRouterosFixes();
    const api = new RouterOSAPI({ host: '127.0.0.1', user: 'u', password: 'p', tls: {} });
    expect(api.port).toBe(8729);
  });

  it('keeps 8728 without tls', () => {
    applyNodeRouterosFixes();
    const api = new RouterOSAPI({ host: '127.0.0.1', user: 'u', password: 'p' });
    expect(api.port).toBe(8728);
  });
});

describe('fix: every trap with its category', () => {
  async function trapOf(replies: string[][]) {
    const server = await startScriptedApiServer((request, socket) => {
      for (const words of replies) {
        socket.write(encodeSentence(tagged(words, request.tag)));
      }
    });
    cleanups.push(() => server.close());
    const connection = await openOn(server.port);
    try {
      await connection.command(['/ip/address/add'], { timeoutMs: 3000 });
    } catch (error) {
      return error;
    }

    throw new Error('expected a trap');
  }

  it('keeps both traps of one command', async () => {
    const error = await trapOf([
      ['!trap', '=category=1', '=message=first'],
      ['!trap', '=message=second'],
      ['!done'],
    ]);
    expect(error instanceof ApiTrapError ? error.traps.map((trap) => trap.message) : error).toEqual(
      ['first', 'second'],
    );
  });

  it('keeps the trap category', async () => {
    const error = await trapOf([['!trap', '=category=1', '=message=bad value'], ['!done']]);
    expect(error instanceof ApiTrapError ? error.category : error).toBe(1);
  });
});

describe('fix: sentence framing', () => {
  it('reads replies cut into 3-byte chunks', async () => {
    const { port } = await simulated('7.17.2', ['fragment']);
    const connection = await openOn(port);
    const reply = await connection.command(
      ['/execute', '=script=:for i from=1 to=40 do={ :put "line $i" }', '=as-string='],
      { timeoutMs: 10_000 },
    );
    expect(reply.done.ret?.split('\r\n')).toHaveLength(41);
  });

  it('reads a reply cut before its end', async () => {
    // The zero-length word that ends the sentence arrives in a TCP segment of its own.
    const server = await startScriptedApiServer((request, socket) => {
      const bytes = encodeSentence(tagged(['!done', '=ret=complete'], request.tag));
      socket.write(bytes.subarray(0, bytes.length - 1));
      setTimeout(() => socket.write(bytes.subarray(bytes.length - 1)), 50);
    });
    cleanups.push(() => server.close());
    const connection = await openOn(server.port);
    const reply = await connection.command(['/execute'], { timeoutMs: 3000 });
    expect(reply.done.ret).toBe('complete');
  });
});

describe('fix: one write per sentence', () => {
  it('sends a command in one segment', async () => {
    const chunks: Buffer[] = [];
    const server = createServer((socket) => {
      const decoder = new SentenceDecoder();
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        for (const sentence of decoder.push(chunk)) {
          const tag = sentence.find((word) => word.startsWith('.tag='))?.slice('.tag='.length);
          socket.write(encodeSentence(tagged(['!done'], tag)));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address();
    const connection = await openOn(
      typeof address === 'object' && address !== null ? address.port : 0,
    );
    const afterLogin = chunks.length;

    await connection.command(['/system/identity/print'], { timeoutMs: 3000 });

    // Written word by word, the first segment carried only the command word and the rest
    // waited for its acknowledgement.
    const [first] = chunks.slice(afterLogin);
    expect(new SentenceDecoder().push(first ?? Buffer.alloc(0))).toHaveLength(1);
  });
});
