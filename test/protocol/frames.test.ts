import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { decodeFrame } from '../../src/protocol/frames.js';
import { agentFrameSchema } from '../../src/protocol/messages.js';
import { thrownCode } from '../support/errors.js';
import { runReport } from '../support/run-reports.js';

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

  it('rejects text that is not JSON', () => {
    expect(thrownCode(() => decode('{"type":'))).toBe('FRAME_INVALID');
  });
});
