import type { Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../../src/clock.js';
import { ApiTrapError } from '../../../src/devices/api/api-trap.js';
import { encodeLength, encodeSentence, encodeWord } from '../../../src/devices/api/codec.js';
import { ApiConnection } from '../../../src/devices/api/connection.js';
import { AgentError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/logging.js';
import { seededRandom } from '../../../src/simulator/model/profiles.js';
import {
  type ScriptedApiServer,
  type ScriptedRequest,
  startScriptedApiServer,
  tagged,
} from '../../support/scripted-api-server.js';

/**
 * Malformed and truncated API replies from a server under the test's control. Every case must
 * end in a classified error within its timeout: no uncaught exception (vitest fails the run on
 * one), no promise left pending.
 */

/** Timeout of each command and of the `/cancel` sent after it, in milliseconds. */
const TIMEOUT_MS = 150;

/** Upper bound on how long one case may take: the command, its cancel, and slack for a busy machine. */
const CASE_LIMIT_MS = 4 * TIMEOUT_MS + 2000;

/** Cases run at once, each on its own connection. */
const BATCH_SIZE = 12;

/** Deterministic pseudo-random numbers for a case, so a failing seed can be rerun. */
function random(seed: number): () => number {
  return seededRandom(`api-fuzz-${seed}`);
}

type Ending = 'close' | 'hang';

type Generator = (next: () => number, tag: string | undefined) => { bytes: Buffer; ending: Ending };

function integer(next: () => number, max: number): number {
  return Math.floor(next() * max);
}

function ending(next: () => number): Ending {
  return next() < 0.5 ? 'close' : 'hang';
}

function randomBytes(next: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => integer(next, 256)));
}

/** Case families with the codes each may end in. */
const FAMILIES: ReadonlyArray<{ name: string; codes: readonly string[]; generate: Generator }> = [
  {
    name: 'random bytes',
    codes: ['DEVICE_PROTOCOL_ERROR', 'CONNECTION_LOST', 'TIMEOUT'],
    generate: (next) => ({
      bytes: randomBytes(next, 1 + integer(next, 300)),
      ending: ending(next),
    }),
  },
  {
    name: 'reserved length byte',
    codes: ['DEVICE_PROTOCOL_ERROR'],
    generate: (next, tag) => {
      const words = next() < 0.5 ? [] : tagged(['!re', '=a=b'], tag);
      const prefix = words.map((word) => encodeWord(word));
      const reserved = Buffer.from([0xf8 + integer(next, 8)]);
      return { bytes: Buffer.concat([...prefix, reserved, randomBytes(next, 8)]), ending: 'hang' };
    },
  },
  {
    name: 'truncated sentence',
    codes: ['CONNECTION_LOST', 'TIMEOUT'],
    generate: (next, tag) => {
      const full = encodeSentence(tagged(['!done', `=ret=${'x'.repeat(integer(next, 400))}`], tag));
      return { bytes: full.subarray(0, integer(next, full.length - 1)), ending: ending(next) };
    },
  },
  {
    name: 'unknown reply word',
    codes: ['DEVICE_PROTOCOL_ERROR'],
    generate: (next, tag) => {
      const reply = ['!empty2', '!', '!RE', '!done!', `!${randomBytes(next, 4).toString('hex')}`];
      const word = reply[integer(next, reply.length)] ?? '!x';
      return { bytes: encodeSentence(tagged([word, '=a=b'], tag)), ending: 'hang' };
    },
  },
  {
    name: 'sentence without a reply word',
    codes: ['DEVICE_PROTOCOL_ERROR'],
    generate: (next, tag) => {
      const first = ['=ret=x', 're', '', 'done'][integer(next, 4)] ?? 're';
      const words = first === '' ? tagged(['=a=b'], tag) : tagged([first], tag);
      return { bytes: encodeSentence(words), ending: 'hang' };
    },
  },
  {
    name: '!re without a command',
    codes: ['CONNECTION_LOST', 'TIMEOUT'],
    generate: (next) => {
      const rows = Array.from({ length: 1 + integer(next, 5) }, () =>
        encodeSentence(['!re', '=a=b']),
      );
      return { bytes: Buffer.concat([...rows, encodeSentence(['!done'])]), ending: ending(next) };
    },
  },
  {
    name: 'replies for unknown tags',
    codes: ['CONNECTION_LOST', 'TIMEOUT'],
    generate: (next) => {
      const tag = randomBytes(next, 6).toString('hex');
      const replies = [['!re', '=a=b'], ['!trap', '=message=x'], ['!done']];
      const bytes = Buffer.concat(replies.map((words) => encodeSentence(tagged(words, tag))));
      return { bytes, ending: ending(next) };
    },
  },
  {
    name: 'huge length',
    codes: ['DEVICE_PROTOCOL_ERROR', 'CONNECTION_LOST', 'TIMEOUT'],
    generate: (next, tag) => {
      const length =
        next() < 0.5 ? 0xffffffff - integer(next, 1000) : 0x100000 + integer(next, 1000);
      const head = encodeWord('!done');
      return {
        bytes: Buffer.concat([
          head,
          encodeWord(`.tag=${tag}`),
          encodeLength(length),
          randomBytes(next, 64),
        ]),
        ending: ending(next),
      };
    },
  },
  {
    name: '!fatal',
    codes: ['CONNECTION_LOST'],
    generate: (next, tag) => {
      const words = next() < 0.5 ? ['!fatal', 'session terminated'] : tagged(['!fatal', 'x'], tag);
      return { bytes: encodeSentence(words), ending: ending(next) };
    },
  },
];

const CASES_PER_FAMILY = 36;

/** Cases by the seed the client puts in its command, so the server knows what to send. */
function caseFor(seed: number) {
  const family = FAMILIES[seed % FAMILIES.length];
  if (family === undefined) {
    throw new Error(`no family for seed ${seed}`);
  }

  return family;
}

function replyWithCase(request: ScriptedRequest, socket: Socket): void {
  const seedWord = request.words.find((word) => word.startsWith('=seed='));
  const seed = Number(seedWord?.slice('=seed='.length));
  if (request.words[0] !== '/fuzz' || !Number.isInteger(seed)) {
    return;
  }

  const { bytes, ending: end } = caseFor(seed).generate(random(seed), request.tag);
  socket.write(bytes);
  if (end === 'close') {
    socket.end();
  }
}

let server: ScriptedApiServer;

beforeAll(async () => {
  server = await startScriptedApiServer(replyWithCase, (request, socket) => {
    const name = request.words.find((word) => word.startsWith('=name=')) ?? '';
    const seed = Number(name.slice('=name=login-'.length));
    if (!name.startsWith('=name=login-') || !Number.isInteger(seed)) {
      return false;
    }

    const { bytes, ending: end } = caseFor(seed).generate(random(seed), request.tag);
    socket.write(bytes);
    if (end === 'close') {
      socket.end();
    }

    return true;
  });
});

afterAll(async () => {
  await server.close();
});

type Outcome = { code: string; elapsedMs: number };

async function openOn(username: string): Promise<ApiConnection> {
  return ApiConnection.open({
    deviceId: 'fuzz',
    host: '127.0.0.1',
    port: server.port,
    username,
    password: 'x',
    clock: systemClock,
    logger: createSilentLogger(),
    // Long enough for a busy machine to log in, short enough for the login cases that hang.
    connectTimeoutMs: 1000,
    commandTimeoutMs: TIMEOUT_MS,
  });
}

function codeOf(error: unknown): string {
  if (error instanceof AgentError) {
    return error.code;
  }

  return error instanceof ApiTrapError ? 'TRAP' : `unclassified ${String(error)}`;
}

async function runCommandCase(seed: number): Promise<Outcome> {
  const connection = await openOn('admin');
  const startedAt = Date.now();
  try {
    await connection.command(['/fuzz', `=seed=${seed}`], { timeoutMs: TIMEOUT_MS });
    return { code: 'SUCCEEDED', elapsedMs: Date.now() - startedAt };
  } catch (error) {
    return { code: codeOf(error), elapsedMs: Date.now() - startedAt };
  } finally {
    connection.close();
  }
}

async function runLoginCase(seed: number): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const connection = await openOn(`login-${seed}`);
    connection.close();
    return { code: 'SUCCEEDED', elapsedMs: Date.now() - startedAt };
  } catch (error) {
    return { code: codeOf(error), elapsedMs: Date.now() - startedAt };
  }
}

async function inBatches(seeds: number[], run: (seed: number) => Promise<Outcome>) {
  const outcomes: Array<Outcome & { seed: number }> = [];
  for (let start = 0; start < seeds.length; start += BATCH_SIZE) {
    const batch = seeds.slice(start, start + BATCH_SIZE);
    const results = await Promise.all(batch.map(run));
    outcomes.push(...results.map((outcome, index) => ({ ...outcome, seed: batch[index] ?? -1 })));
  }

  return outcomes;
}

describe('API transport fed malformed replies', () => {
  FAMILIES.forEach((family, familyIndex) => {
    const seeds = Array.from(
      { length: CASES_PER_FAMILY },
      (_, n) => familyIndex + n * FAMILIES.length,
    );

    it(`classifies ${family.name} after a command`, async () => {
      const outcomes = await inBatches(seeds, runCommandCase);
      const unexpected = outcomes.filter((outcome) => !family.codes.includes(outcome.code));
      expect(unexpected).toEqual([]);
      const slow = outcomes.filter((outcome) => outcome.elapsedMs > CASE_LIMIT_MS);
      expect(slow).toEqual([]);
    });
  });

  it('classifies malformed login replies', async () => {
    const seeds = Array.from({ length: 4 * FAMILIES.length }, (_, n) => 10_000 + n);
    const outcomes = await inBatches(seeds, runLoginCase);
    const allowed = ['DEVICE_PROTOCOL_ERROR', 'CONNECTION_LOST', 'DEVICE_UNREACHABLE'];
    const unexpected = outcomes.filter((outcome) => !allowed.includes(outcome.code));
    expect(unexpected).toEqual([]);
  });
});
