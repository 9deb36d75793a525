import type { Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { ApiTrapError } from '../../../src/devices/api/api-trap.js';
import { encodeSentence } from '../../../src/devices/api/codec.js';
import { openApiSession } from '../../../src/devices/api/session.js';
import type { SessionContext } from '../../../src/devices/types.js';
import { createSilentLogger } from '../../../src/logging.js';
import { temporaryTrustStore } from '../../support/device-fleet.js';
import { makeDevice } from '../../support/devices.js';
import {
  type ScriptedRequest,
  startScriptedApiServer,
  tagged,
} from '../../support/scripted-api-server.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

const RESOURCE_ROW = [
  '!re',
  '=version=7.17 (stable)',
  '=board-name=CHR',
  '=architecture-name=x86_64',
];

/**
 * Starts a device that replies to the two facts commands only once both have arrived, so a client
 * that waits for the first reply before sending the second command times out.
 */
async function startFactsDevice(resourceReply: string[][]) {
  const unanswered: ScriptedRequest[] = [];
  const server = await startScriptedApiServer((request: ScriptedRequest, socket: Socket) => {
    unanswered.push(request);
    if (unanswered.length < 2) {
      return;
    }

    for (const pending of unanswered.splice(0)) {
      const words = pending.words[0] === '/system/resource/print' ? resourceReply : identityReply;
      for (const sentence of words) {
        socket.write(encodeSentence(tagged(sentence, pending.tag)));
      }
    }
  });
  cleanups.push(() => server.close());
  return server;
}

const identityReply = [['!re', '=name=edge-router'], ['!done']];

async function openOn(port: number) {
  const trust = await temporaryTrustStore();
  cleanups.push(() => trust.remove());
  const context: SessionContext = {
    credentials: { password: 'secret' },
    trust: trust.store,
    logger: createSilentLogger(),
    clock: systemClock,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
  };
  return openApiSession(makeDevice('r1', { ports: { api: port, apiSsl: 0, ssh: 0 } }), context);
}

describe('openApiSession facts', () => {
  it('sends both facts commands at once', async () => {
    const server = await startFactsDevice([RESOURCE_ROW, ['!done']]);

    const session = await openOn(server.port);
    cleanups.push(() => session.close());

    expect(session.facts).toEqual({
      version: '7.17 (stable)',
      board: 'CHR',
      architecture: 'x86_64',
      identity: 'edge-router',
    });
    expect(server.requests.map((request) => request.words[0])).toEqual([
      '/system/resource/print',
      '/system/identity/print',
    ]);
  });

  it('rejects on a trap of one facts command', async () => {
    const server = await startFactsDevice([
      ['!trap', '=category=4', '=message=not enough permissions'],
      ['!done'],
    ]);

    const failure = await openOn(server.port).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ApiTrapError);
    expect((failure as ApiTrapError).category).toBe(4);
  });
});

describe('ApiSession run', () => {
  /** Starts a device that replies to the facts commands and closes the connection on the script. */
  async function startClosingDevice() {
    const server = await startScriptedApiServer((request, socket) => {
      if (request.words[0] === '/execute') {
        socket.destroy();
        return;
      }

      const reply = request.words[0] === '/system/resource/print' ? RESOURCE_ROW : identityReply[0];
      for (const words of [reply ?? [], ['!done']]) {
        socket.write(encodeSentence(tagged(words, request.tag)));
      }
    });
    cleanups.push(() => server.close());
    return server;
  }

  it('fails a script on connection loss', async () => {
    const server = await startClosingDevice();
    const session = await openOn(server.port);
    cleanups.push(() => session.close());

    const result = await session.run(':put "once"', { timeoutMs: 2000 });

    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('CONNECTION_LOST');
    // The operator must know which device to check before running the script again.
    expect(result.error?.message).toContain('device r1');
  });
});
