import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { parseControlPlaneConfig } from '../../src/control-plane/config.js';
import { ControlPlane } from '../../src/control-plane/server.js';
import { createLogger } from '../../src/logging.js';
import { connectRaw } from '../support/sockets.js';

let dir: string;
let controlPlane: ControlPlane | undefined;
let lines: string[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-logging-'));
  lines = [];
  const config = parseControlPlaneConfig(
    {
      listen: { port: 0 },
      database: ':memory:',
      jwt: { secretFile: 'jwt.secret' },
      signingKeyFile: 'signing.pem',
    },
    'test config',
    dir,
  );
  const logger = createLogger({
    name: 'edge-control-plane',
    destination: { write: (line: string) => lines.push(line) },
  });
  controlPlane = await ControlPlane.start({ config, logger });
});

afterEach(async () => {
  await controlPlane?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('control plane log lines', () => {
  it('carry one component each', async () => {
    await connectRaw(controlPlane?.info.agentUrl ?? '', 'not-a-site-token');

    const rejected = lines.find((line) => line.includes('agent token rejected')) ?? '';
    const components = rejected.match(/"component":/g) ?? [];

    expect(components).toHaveLength(1);
    expect(JSON.parse(rejected).component).toBe('agent-hub');
  });

  it('name the component when stopping', async () => {
    await controlPlane?.stop();
    controlPlane = undefined;

    const stopping = lines.find((line) => line.includes('stopping control plane')) ?? '{}';
    expect(JSON.parse(stopping).component).toBe('control-plane');
  });
});
