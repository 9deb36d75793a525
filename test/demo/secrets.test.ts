import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ChildProcesses } from '../../src/demo/children.js';
import { DEMO_SCRIPT } from '../../src/demo/run-demo.js';
import { ScriptsApi, watchProgress } from '../../src/demo/scenario.js';
import { type Stack, startStack } from '../../src/demo/stack.js';

/** Every status endpoint path, with `{id}` standing for the script id. */
const STATUS_PATHS = [
  '/',
  '/livez',
  '/readyz',
  '/status',
  '/jobs',
  '/jobs/{id}',
  '/scripts/scheduled/{id}/progress',
  '/metrics',
  '/no-such-page',
];

let dir: string;
let stack: Stack;
/** Every response body read from the control plane and the agent. */
const responses: string[] = [];
/** Every line the three programs wrote, read once they have all stopped. */
let lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'edge-agent-secrets-'));
  const children = new ChildProcesses();
  try {
    // Debug logging writes the most lines, each of which must be free of secrets.
    stack = await startStack(dir, children, 'debug');
    const api = new ScriptsApi(stack);
    const script = await readFile(path.resolve(import.meta.dirname, '../..', DEMO_SCRIPT), 'utf8');
    const scriptId = await api.launchScript('Secret check', script);
    await watchProgress(api, scriptId, 20_000, () => undefined);
    await api.request('GET', `/scripts/scheduled/${scriptId}`);
    await api.request('GET', '/scripts/scheduled');
    responses.push(...api.responses);
    responses.push(await rejectedApiResponse(stack));

    for (const pathname of STATUS_PATHS) {
      const url = `${stack.statusUrl}${pathname.replace('{id}', scriptId)}`;
      const authorized = { authorization: `Bearer ${stack.secrets.statusToken}` };
      responses.push(await (await fetch(url, { headers: authorized })).text());
      responses.push(
        await (await fetch(url, { headers: { authorization: 'Bearer wrong' } })).text(),
      );
    }
  } finally {
    await children.stopAll();
    lines = children.lines.map((line) => `${line.name}: ${line.text}`);
  }
}, 90_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Returns the body of a Scripts API request with a token signed by another secret. */
async function rejectedApiResponse(current: Stack): Promise<string> {
  const response = await fetch(`${current.apiUrl}/scripts/scheduled`, {
    headers: { authorization: `Bearer ${current.secrets.apiToken.slice(0, -4)}AAAA` },
  });
  return response.text();
}

describe('end-to-end job secrets', () => {
  it('collects logs and responses', () => {
    expect(lines.some((line) => line.includes('"msg":"run finished"'))).toBe(true);
    expect(lines.some((line) => line.includes('"msg":"script sent"'))).toBe(true);
    expect(lines.some((line) => line.includes('"msg":"agent stopped"'))).toBe(true);
    expect(responses.some((body) => body.includes('baseline applied on hq-core'))).toBe(true);
    expect(responses.length).toBeGreaterThan(STATUS_PATHS.length * 2);
  });

  it.each(['siteToken', 'statusToken', 'jwtSecret', 'devicePassword', 'apiToken'] as const)(
    'never shows the %s',
    (name) => {
      const secret = stack.secrets[name];

      expect(secret.length).toBeGreaterThan(8);
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
      expect(responses.filter((body) => body.includes(secret))).toEqual([]);
    },
  );
});
