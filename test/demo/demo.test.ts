import { spawn } from 'node:child_process';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The demo's output and exit code, from one `npm run demo` as a user runs it. */
let result: { code: number | null; output: string };

/** Runs `npm run demo` and collects standard output and standard error. */
function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'demo'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The line after the one that starts with `heading`. */
function lineAfter(output: string, heading: string): string {
  const lines = output.split('\n');
  const index = lines.findIndex((line) => line.startsWith(heading));
  return index === -1 ? '' : (lines[index + 1] ?? '');
}

beforeAll(async () => {
  result = await runDemo();
}, 180_000);

describe('npm run demo', () => {
  it('exits 0', () => {
    expect(result.code, result.output).toBe(0);
  });

  it('prints the final progress', () => {
    const progress = JSON.parse(lineAfter(result.output, 'Final progress: ')) as Record<
      string,
      string[]
    >;
    const siteId = /agent connected for site ([0-9a-f-]{36})/.exec(result.output)?.[1];

    expect(siteId).toBeDefined();
    expect(progress).toEqual({ completed: [], failed: [siteId], pending: [] });
  });

  it('prints each device output', () => {
    for (const device of ['hq-core', 'branch-ssl', 'shop-ssh', 'legacy-v6']) {
      expect(result.output).toMatch(new RegExp(`^  ${device} \\(.*\\): succeeded$`, 'm'));
      expect(result.output).toContain(`| baseline applied on ${device}, RouterOS`);
    }
  });

  it('prints the expected failures', () => {
    expect(result.output).toMatch(/^ {2}lab-chr \(.*\): failed SCRIPT_FAILED$/m);
    expect(result.output).toContain('no defconf input drop rule on this router');
    expect(result.output).toMatch(/^ {2}branch-offline \(.*\): failed DEVICE_UNREACHABLE$/m);
  });

  it('stops the agent cleanly', () => {
    expect(result.output).toContain('agent exited with code 0');
    expect(result.output).toContain('Outcome as expected:');
  });
});
