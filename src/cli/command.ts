import { agentVersion } from '../daemon/version.js';

/** A subcommand of one of the project's programs. */
export type Command = {
  /** One line for the program's help. */
  summary: string;
  /** Runs the subcommand with the arguments after its name and returns the exit code. */
  main(argv: readonly string[]): Promise<number>;
};

/** Exit codes shared by every program: success, a failed run, bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type CommandTable = Readonly<Record<string, () => Promise<Command>>>;

/**
 * Runs the subcommand named by `argv[0]` from `commands`, printing help for `--help`, `help` or
 * no name, and the version for `--version`. Returns the exit code.
 */
export async function dispatch(
  program: string,
  commands: CommandTable,
  argv: readonly string[],
): Promise<number> {
  const [name, ...rest] = argv;

  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await printHelp(program, commands);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }

  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${program} ${agentVersion()}\n`);
    return EXIT.ok;
  }

  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`${program}: unknown command "${name}"; run "${program} --help"\n`);
    return EXIT.usage;
  }

  const command = await load();
  return command.main(rest);
}

async function printHelp(program: string, commands: CommandTable): Promise<void> {
  const lines = [`Usage: ${program} <command> [options]`, '', 'Commands:'];
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((name) => name.length));

  for (const name of names) {
    const load = commands[name];
    if (load !== undefined) {
      const command = await load();
      lines.push(`  ${name.padEnd(width)}  ${command.summary}`);
    }
  }

  lines.push(
    '',
    `Run "${program} <command> --help" for the options of a command, "${program} --version" for`,
    'the version.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Runs `dispatch` as a program's entry point and sets the process exit code. `argv` defaults to
 * the process arguments after the script name.
 */
export function runProgram(
  program: string,
  commands: CommandTable,
  argv: readonly string[] = process.argv.slice(2),
): void {
  dispatch(program, commands, argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${program}: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
