import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { unitNodeOptions } from '../../bench/support/daemon.js';
import { runScript } from '../support/run-script.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const checkScript = join(repoRoot, 'systemd', 'check');
const unitFile = join(repoRoot, 'systemd', 'edge-agent.service');
const entrypointFile = join(repoRoot, 'agent', 'entrypoint.sh');

describe('systemd/check', () => {
  let workDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'edge-agent-systemd-'));
  });

  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  /** Writes the shipped unit with `edit` applied, under its own file name in the temp dir. */
  async function writeEditedUnit(edit: (text: string) => string): Promise<string> {
    const text = await readFile(unitFile, 'utf8');
    const path = join(workDir, 'edge-agent.service');
    await writeFile(path, edit(text));
    return path;
  }

  it('passes the shipped unit', async () => {
    const result = await runScript(checkScript, []);

    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/verify edge-agent\.service: ok/);

    const exposure = /exposure edge-agent\.service: ([0-9.]+)/.exec(result.stdout)?.[1];
    expect(Number(exposure)).toBeLessThanOrEqual(1.2);
  });

  it('rejects a directive verify ignores', async () => {
    const path = await writeEditedUnit((text) => text.replace('Type=exec', 'Type=bogus'));

    const result = await runScript(checkScript, [path]);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Type=bogus|service type/);
  });

  it('rejects a unit without a capability bound', async () => {
    const path = await writeEditedUnit((text) => text.replace(/^CapabilityBoundingSet=\n/m, ''));

    const result = await runScript(checkScript, [path]);

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/verify edge-agent\.service: ok/);
    expect(result.stderr).toMatch(/exposure [0-9.]+ is above 1\.2/);
  });

  it('rejects a missing ExecReload program', async () => {
    const path = await writeEditedUnit((text) =>
      text.replace('ExecReload=/bin/kill ', 'ExecReload=/bin/no-such-kill '),
    );

    const result = await runScript(checkScript, [path]);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/no-such-kill is not executable/);
  });
});

describe('edge-agent.service', () => {
  it('allows the memory V8 needs', async () => {
    const text = await readFile(unitFile, 'utf8');

    // V8's JIT maps pages writable and executable, which this setting forbids.
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m);
  });

  it('passes node the same options as the image', async () => {
    const unit = await readFile(unitFile, 'utf8');
    const entrypoint = await readFile(entrypointFile, 'utf8');
    const command = /^set -- \S+\/node (.*)$/m.exec(entrypoint)?.[1]?.split(/\s+/) ?? [];
    const containerOptions = command.slice(
      0,
      command.findIndex((word) => word.endsWith('.js')),
    );

    expect(containerOptions).toEqual(unitNodeOptions(unit));
  });

  it('waits longer than the agent stops', async () => {
    const text = await readFile(unitFile, 'utf8');
    const timeout = /^TimeoutStopSec=(\d+)s$/m.exec(text)?.[1];

    // The agent finishes its shutdown within 10 s of SIGTERM.
    expect(Number(timeout)).toBeGreaterThan(10);
  });
});
