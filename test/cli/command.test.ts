import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CommandTable, dispatch, EXIT } from '../../src/cli/command.js';

const COMMANDS: CommandTable = {
  hello: async () => ({
    summary: 'print a greeting',
    main: async (argv) => {
      process.stdout.write(`hello ${argv.join(' ')}\n`);
      return EXIT.ok;
    },
  }),
};

let output: string[];

beforeEach(() => {
  output = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      output.push(String(chunk));
      return true;
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

describe('dispatch', () => {
  it.each(['--version', '-V', 'version'])('prints the version for %s', async (flag) => {
    const code = await dispatch('edge-agent', COMMANDS, [flag]);

    expect(code).toBe(EXIT.ok);
    expect(output.join('')).toBe(`edge-agent ${await packageVersion()}\n`);
  });

  it('lists commands for --help', async () => {
    const code = await dispatch('edge-agent', COMMANDS, ['--help']);

    expect(code).toBe(EXIT.ok);
    expect(output.join('')).toContain('hello  print a greeting');
  });

  it('exits 2 without a command', async () => {
    expect(await dispatch('edge-agent', COMMANDS, [])).toBe(EXIT.usage);
  });

  it('exits 2 on unknown command', async () => {
    expect(await dispatch('edge-agent', COMMANDS, ['nope'])).toBe(EXIT.usage);
  });

  it('passes the rest to the command', async () => {
    const code = await dispatch('edge-agent', COMMANDS, ['hello', 'a', 'b']);

    expect(code).toBe(EXIT.ok);
    expect(output.join('')).toBe('hello a b\n');
  });
});
