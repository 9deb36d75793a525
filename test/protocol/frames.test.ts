import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { AgentError } from '../../src/errors.js';
import { decodeFrame } from '../../src/protocol/frames.js';
import { agentFrameSchema } from '../../src/protocol/messages.js';
import { thrownCode } from '../support/errors.js';
import { runReport } from '../support/run-reports.js';

/** Runs `body` and returns the details of the AgentError it throws. */
function thrownDetails(body: () => unknown): Record<string, unknown> | undefined {
  try {
    body();
  } catch (error) {
    return error instanceof AgentError ? error.details : undefined;
  }

  return undefined;
}

function decode(text: string) {
  return decodeFrame(Buffer.from(text), false, agentFrameSchema);
}

const statusText = JSON.stringify({
  type: 'run_status',
  seq: 7,
  run: runReport(randomUUID(), 'router-1'),
});

describe('decodeFrame', () => {
  it('decodes a run_status frame', () => {
    expect(decode(statusText)).toMatchObject({ type: 'run_status', seq: 7 });
  });

  it.each([
    ['__proto__ at the top', `{"__proto__":{"polluted":1},${statusText.slice(1)}`],
    ['constructor in an array', `${statusText.slice(0, -1)},"extra":[1,{"constructor":1}]}`],
    ['prototype deep inside', `${statusText.slice(0, -1)},"a":{"b":{"c":{"prototype":1}}}}`],
  ])('rejects %s', (_case, text) => {
    expect(thrownCode(() => decode(text))).toBe('FRAME_INVALID');
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('rejects nesting past the limit', () => {
    const text = `${statusText.slice(0, -1)},"deep":${'['.repeat(20)}${']'.repeat(20)}}`;
    expect(thrownCode(() => decode(text))).toBe('FRAME_INVALID');
  });

  it.each([
    ['an empty device id', ['']],
    ['a device id too long', ['r'.repeat(257)]],
  ])('names the item of %s', (_case, targets) => {
    const text = JSON.stringify({
      type: 'job_stored',
      seq: 1,
      jobId: randomUUID(),
      receivedAt: 0,
      targets,
    });

    expect(thrownDetails(() => decode(text))?.path).toBe('targets.0');
  });

  it.each(['[]', 'null', '"hello"', '[{"type":"hello"}]'])(
    'reports frame %s at the root',
    (text) => {
      expect(thrownDetails(() => decode(text))?.path).toBe('');
    },
  );

  it('rejects text that is not JSON', () => {
    expect(thrownCode(() => decode('{"type":'))).toBe('FRAME_INVALID');
  });
});
