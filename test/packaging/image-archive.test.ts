import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runScript } from '../support/run-script.js';

const run = promisify(execFile);
const checkScript = fileURLToPath(new URL('../../agent/check-image-archive.sh', import.meta.url));

type ArchiveSpec = {
  /** Entries of manifest.json, one per image; default 1. */
  images?: number;
  /** Whether the layer file is gzip-compressed; default false. */
  gzipLayer?: boolean;
  /** Architecture in the image config; default amd64. */
  architecture?: string;
};

describe('agent/check-image-archive.sh', () => {
  let workDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'edge-agent-archive-'));
  });

  afterEach(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  /** Writes a docker-archive shaped like podman's, with one small layer, and returns its path. */
  async function writeArchive(spec: ArchiveSpec = {}): Promise<string> {
    const content = join(workDir, 'content');
    const layerRoot = join(workDir, 'layer-root');
    await mkdir(content);
    await mkdir(join(layerRoot, 'etc'), { recursive: true });
    await writeFile(join(layerRoot, 'etc', 'hostname'), 'agent\n');

    const layerTar = join(content, 'aaaa.tar');
    await run('tar', ['-C', layerRoot, '-cf', layerTar, '.']);
    if (spec.gzipLayer === true) {
      await writeFile(layerTar, gzipSync(await readFile(layerTar)));
    }

    const config = { architecture: spec.architecture ?? 'amd64', os: 'linux', config: {} };
    await writeFile(join(content, 'cccc.json'), JSON.stringify(config));

    const image = {
      Config: 'cccc.json',
      RepoTags: ['localhost/edge-agent:test'],
      Layers: ['aaaa.tar'],
    };
    const manifest = Array.from({ length: spec.images ?? 1 }, () => image);
    await writeFile(join(content, 'manifest.json'), JSON.stringify(manifest));

    const archive = join(workDir, 'image.tar');
    await run('tar', ['-C', content, '-cf', archive, 'manifest.json', 'cccc.json', 'aaaa.tar']);
    return archive;
  }

  it('accepts a single-platform archive', async () => {
    const archive = await writeArchive();

    const result = await runScript(checkScript, [archive, 'amd64']);

    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/one image for linux\/amd64, 1 uncompressed layers/);
  });

  it('rejects a gzip-compressed layer', async () => {
    const archive = await writeArchive({ gzipLayer: true });

    const result = await runScript(checkScript, [archive]);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/aaaa\.tar is gzip-compressed/);
  });

  it('rejects an archive of two images', async () => {
    const archive = await writeArchive({ images: 2 });

    const result = await runScript(checkScript, [archive]);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/exactly one image/);
  });

  it('rejects another architecture', async () => {
    const archive = await writeArchive({ architecture: 'arm64' });

    const result = await runScript(checkScript, [archive, 'amd64']);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/not for amd64/);
  });

  it('rejects a tar without manifest.json', async () => {
    const archive = join(workDir, 'plain.tar');
    await writeFile(join(workDir, 'file.txt'), 'text\n');
    await run('tar', ['-C', workDir, '-cf', archive, 'file.txt']);

    const result = await runScript(checkScript, [archive]);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/no manifest\.json/);
  });
});
