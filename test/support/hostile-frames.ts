import { LIMITS } from '../../src/protocol/limits.js';

/** Creates a deterministic random source (mulberry32), so a failing fuzz case replays. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One hostile frame: its data, whether it goes out as a binary message, and its category. */
export type HostileFrame = { data: string | Buffer; binary: boolean; kind: string };

const WRONG_VALUES: unknown[] = [null, 42, -1, 1.5, '', 'x', true, [], {}, [1, 2], 2 ** 60];

/**
 * Builds `count` frames that are each invalid for protocol v1, from mutations of `samples`
 * (valid frames of the receiving side) and from raw garbage. `protectedKeys` are fields whose
 * schema accepts any value (a job offer's `job`), which mutations leave alone.
 */
export function hostileFrames(
  samples: readonly Record<string, unknown>[],
  count: number,
  random: () => number,
  protectedKeys: readonly string[] = [],
): HostileFrame[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const makers: Array<() => HostileFrame> = [
    () => randomBytes(random),
    () => truncated(pick(samples), random),
    () => wrongType(pick(samples), random, pick, protectedKeys),
    () => prototypeKey(pick(samples), pick),
    () => deeplyNested(random),
    () => unknownType(random),
  ];

  const frames = Array.from({ length: count }, () => pick(makers)());
  // A few frames past the size limit but under maxPayload, so they reach the decoder.
  for (let index = 0; index < 3; index += 1) {
    frames.push({ data: tooLarge(), binary: false, kind: 'too-large' });
  }

  return frames;
}

function randomBytes(random: () => number): HostileFrame {
  const bytes = Buffer.alloc(1 + Math.floor(random() * 512));
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Math.floor(random() * 256);
  }

  return { data: bytes, binary: random() < 0.3, kind: 'random-bytes' };
}

function truncated(sample: Record<string, unknown>, random: () => number): HostileFrame {
  const text = JSON.stringify(sample);
  return {
    data: text.slice(0, Math.floor(random() * (text.length - 1))),
    binary: false,
    kind: 'truncated',
  };
}

function wrongType(
  sample: Record<string, unknown>,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
  protectedKeys: readonly string[],
): HostileFrame {
  const keys = Object.keys(sample).filter((key) => !protectedKeys.includes(key));
  const key = pick(keys);
  const current = sample[key];
  const candidates = WRONG_VALUES.filter(
    (value) => typeof value !== typeof current || Array.isArray(value) !== Array.isArray(current),
  );
  const mutated = {
    ...sample,
    [key]: key === 'type' ? pick([42, null, 'hello!', '']) : pick(candidates),
  };
  if (random() < 0.2) {
    delete mutated[key];
    if (key === 'type') {
      mutated.kind = 'hello';
    }
  }

  return { data: JSON.stringify(mutated), binary: false, kind: 'wrong-type' };
}

function prototypeKey(
  sample: Record<string, unknown>,
  pick: <T>(items: readonly T[]) => T,
): HostileFrame {
  const key = pick(['__proto__', 'constructor', 'prototype']);
  const text = JSON.stringify(sample);
  const payload = `"${key}":{"polluted":true,"isAdmin":true}`;
  const data = pick([
    `{${payload},${text.slice(1)}`,
    `${text.slice(0, -1)},"nested":{${payload}}}`,
  ]);
  return { data, binary: false, kind: 'prototype-key' };
}

function deeplyNested(random: () => number): HostileFrame {
  const depth = Math.floor(20 + random() * (random() < 0.1 ? 200_000 : 2000));
  const open = random() < 0.5 ? '['.repeat(depth) : '{"a":'.repeat(depth);
  const close = open.startsWith('[') ? ']'.repeat(depth) : '}'.repeat(depth);
  return { data: `{"type":"hello","x":${open}1${close}}`, binary: false, kind: 'deep' };
}

function unknownType(random: () => number): HostileFrame {
  const type = ['welcome2', 'HELLO', 'job_offer ', 'shell', `t${Math.floor(random() * 1e6)}`];
  return {
    data: JSON.stringify({ type: type[Math.floor(random() * type.length)], seq: 1 }),
    binary: false,
    kind: 'unknown-type',
  };
}

function tooLarge(): string {
  const padding = 'x'.repeat(LIMITS.maxFrameBytes + 10);
  return JSON.stringify({ type: 'error', code: 'INTERNAL', message: padding });
}
