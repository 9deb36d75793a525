import { describe, expect, it } from 'vitest';

import { capOutput } from '../../src/jobs/output-cap.js';

const CAP = 256 * 1024;

describe('capOutput', () => {
  it('keeps output under the cap whole', () => {
    const output = 'line\r\n'.repeat(1000);

    expect(capOutput(output, CAP)).toEqual({ text: output, truncated: false, totalBytes: 6000 });
  });

  it('keeps output exactly at the cap whole', () => {
    const output = 'a'.repeat(CAP);

    expect(capOutput(output, CAP).truncated).toBe(false);
  });

  it('keeps head and tail of large output', () => {
    const lines = Array.from({ length: 200_000 }, (_, index) => `line ${index}\r\n`);
    const output = lines.join('');

    const capped = capOutput(output, CAP);

    expect(capped.truncated).toBe(true);
    expect(capped.totalBytes).toBe(Buffer.byteLength(output));
    expect(Buffer.byteLength(capped.text)).toBeLessThanOrEqual(CAP);
    expect(Buffer.byteLength(capped.text)).toBeGreaterThan(CAP - 100);
    expect(capped.text.startsWith('line 0\r\nline 1\r\n')).toBe(true);
    expect(capped.text.endsWith('line 199998\r\nline 199999\r\n')).toBe(true);
  });

  it('states the omitted byte count', () => {
    const output = 'x'.repeat(10 * CAP);

    const capped = capOutput(output, CAP);
    const match = /\[\.\.\. (\d+) bytes omitted \.\.\.\]/.exec(capped.text);
    const kept = capped.text.replace(match?.[0] ?? '', '').replaceAll('\n', '').length;

    expect(match).not.toBeNull();
    expect(Number(match?.[1]) + kept).toBe(10 * CAP);
  });

  it('never splits multi-byte characters', () => {
    const output = 'ö€😀'.repeat(100_000);

    const capped = capOutput(output, 1000);

    expect(capped.text).not.toContain('\uFFFD');
    expect(Buffer.byteLength(capped.text)).toBeLessThanOrEqual(1000);
    expect(capped.totalBytes).toBe(Buffer.byteLength(output));
  });
});
