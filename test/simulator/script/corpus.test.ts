import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../support/manual-clock.js';
import { buildDevice, runScript } from '../../support/simulated-device.js';

const corpus = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');

/**
 * Each `name.rsc` runs on a fresh RouterOS 7 CHR; `name.out` holds its exact output (stored
 * with LF, compared as the device prints it, with CRLF) and `name.error` the failure message
 * when the script stops. Setting UPDATE_CORPUS=1 writes missing `.out` files for review.
 */
const scripts = readdirSync(corpus)
  .filter((name) => name.endsWith('.rsc'))
  .map((name) => name.slice(0, -4));

function expected(name: string, extension: string): string | undefined {
  const file = path.join(corpus, `${name}.${extension}`);
  return existsSync(file) ? readFileSync(file, 'latin1') : undefined;
}

describe('script corpus', () => {
  test.each(scripts)('%s prints the expected output', async (name) => {
    const device = buildDevice({ clock: new ManualClock() });
    const source = readFileSync(path.join(corpus, `${name}.rsc`), 'latin1');
    const run = await runScript(device, source);
    const output = expected(name, 'out');
    if (output === undefined && process.env.UPDATE_CORPUS === '1') {
      writeFileSync(
        path.join(corpus, `${name}.out`),
        run.output.replaceAll('\r\n', '\n'),
        'latin1',
      );
    }

    expect(run.output).toBe((output ?? '').replaceAll('\n', '\r\n'));
    expect(run.failure?.message).toBe(expected(name, 'error')?.trimEnd());
  });
});
