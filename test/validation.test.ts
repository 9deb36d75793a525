import { describe, expect, it } from 'vitest';

import {
  absent,
  array,
  boolean,
  discriminated,
  type Issue,
  integer,
  literal,
  number,
  object,
  oneOf,
  optional,
  partial,
  type Schema,
  safeParse,
  string,
  union,
  unknown,
  uuid,
} from '../src/validation.js';

/** Returns the issues of a value that must fail. */
function issuesOf<T>(schema: Schema<T>, value: unknown): Issue[] {
  const result = safeParse(schema, value);
  if (result.success) {
    throw new Error('expected the value to fail');
  }

  return result.issues;
}

function pathsOf<T>(schema: Schema<T>, value: unknown): string[] {
  return issuesOf(schema, value).map((issue) => issue.path.join('.'));
}

describe('object', () => {
  const device = object({ id: string({ min: 1 }), port: optional(integer({ min: 1 })) });

  it('copies only known keys', () => {
    expect(safeParse(device, { id: 'r1', extra: true })).toEqual({
      success: true,
      data: { id: 'r1' },
    });
  });

  it('leaves a missing optional key out', () => {
    const result = safeParse(device, { id: 'r1' });

    expect(result.success).toBe(true);
    expect(result.success ? Object.keys(result.data) : []).toEqual(['id']);
  });

  it('reports a missing unknown key', () => {
    expect(pathsOf(object({ job: unknown() }), {})).toEqual(['job']);
  });

  it('reports a missing required key', () => {
    expect(issuesOf(device, {})[0]).toMatchObject({ path: ['id'], input: undefined });
  });

  it('reports every bad key at once', () => {
    expect(pathsOf(device, { id: '', port: 0 })).toEqual(['id', 'port']);
  });

  it('rejects a list as a mapping', () => {
    expect(pathsOf(device, [])).toEqual(['']);
  });

  it('reports unknown keys when strict', () => {
    const strict = object(partial({ id: string() }), { strict: true });
    expect(issuesOf(strict, { ids: 'r1' })[0]).toMatchObject({ path: ['ids'], unknownKey: true });
  });

  it('rejects any value of an absent key', () => {
    const secretless = object({ password: absent('a password file') });
    expect(pathsOf(secretless, { password: null })).toEqual(['password']);
  });
});

describe('array', () => {
  const ids = array(string({ min: 1 }), { min: 1, max: 2 });

  it('names the index of a bad item', () => {
    expect(pathsOf(object({ ids }), { ids: ['a', ''] })).toEqual(['ids.1']);
  });

  it('rejects a list that is too long', () => {
    expect(pathsOf(ids, ['a', 'b', 'c'])).toEqual(['']);
  });

  it('rejects an empty list below the minimum', () => {
    expect(safeParse(ids, []).success).toBe(false);
  });
});

describe('numbers', () => {
  it.each([1.5, 2 ** 53, '3', Number.NaN])('integer rejects %s', (value) => {
    expect(safeParse(integer(), value).success).toBe(false);
  });

  it('integer accepts the bounds', () => {
    expect(safeParse(array(integer({ min: 1, max: 3 })), [1, 3]).success).toBe(true);
  });

  it('number rejects infinity', () => {
    expect(safeParse(number(), Number.POSITIVE_INFINITY).success).toBe(false);
  });

  it('number with above excludes it', () => {
    expect(safeParse(number({ above: 0 }), 0).success).toBe(false);
  });
});

describe('strings', () => {
  it('uuid accepts a random UUID', () => {
    expect(safeParse(uuid(), crypto.randomUUID()).success).toBe(true);
  });

  it('uuid rejects a bad variant', () => {
    expect(safeParse(uuid(), '6f1d2c1e-8a4b-4c55-1d3e-2b7f0a9c1d42').success).toBe(false);
  });

  it('string applies its test', () => {
    expect(safeParse(string({ test: (text) => text === 'ok' }), 'no').success).toBe(false);
  });

  it('oneOf rejects another value', () => {
    expect(safeParse(oneOf(['api', 'ssh']), 'telnet').success).toBe(false);
  });

  it('boolean rejects a string', () => {
    expect(safeParse(boolean(), 'true').success).toBe(false);
  });
});

describe('union and discriminated', () => {
  const targets = union<'all' | string[]>([literal('all'), array(string())], 'targets');
  const frames = discriminated('type', [
    object({ type: literal('ping'), seq: integer() }),
    object({ type: literal('stop') }),
  ]);

  it('union takes the first fitting option', () => {
    expect(safeParse(targets, ['r1'])).toEqual({ success: true, data: ['r1'] });
  });

  it('union reports one issue', () => {
    expect(issuesOf(targets, 'some')).toHaveLength(1);
  });

  it('discriminated checks the named variant', () => {
    expect(pathsOf(frames, { type: 'ping', seq: 'x' })).toEqual(['seq']);
  });

  it('discriminated reports an unknown tag', () => {
    expect(pathsOf(frames, { type: 'pong' })).toEqual(['type']);
  });
});
