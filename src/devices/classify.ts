import type { RunError } from './types.js';

/**
 * Classification of what a RouterOS device printed or trapped while running a script. Devices
 * report script errors as text: the console and SSH exec print them as the last output line,
 * `/execute =as-string=` returns parse errors as output, and the API traps with the same text.
 * No transport gets a usable exit status, so this text is all there is.
 */

/** Errors the parser raises before any command runs; the script did nothing. */
const SYNTAX_PATTERNS: readonly RegExp[] = [
  /^syntax error\b/,
  /^bad command name\b/,
  /^expected end of command\b/,
  /^expected command name\b/,
  /^expected (?:closing|opening) /,
  /^missing (?:closing|opening) /,
  /^unterminated /,
  /^no such command prefix\b/,
];

/** Errors a command raises while the script runs; commands before it took effect. */
const RUNTIME_PATTERNS: readonly RegExp[] = [
  /^input does not match any value of\b/,
  /^failure: /,
  /^no such item\b/,
  /^invalid value for\b/,
  /^invalid internal item number\b/,
  /^ambiguous value of\b/,
  /^value of .+ (?:out of range|must be|should be)\b/,
  /^missing value\(s\) of argument\(s\)/,
  /^no such command or directory\b/,
  /^not enough permissions\b/,
  /^already have such\b/,
  /^interrupted$/,
  /^action timed out\b/,
  /^script error: /,
  /^executing script from .+ failed\b/,
];

/** The position suffix every console error carries: `(line 2 column 13)`. */
const POSITION = /\(line (\d+) column (\d+)\)\s*$/;

/**
 * Classifies a line of device text as a script error, or returns undefined when it is not one.
 * Parse errors give SCRIPT_SYNTAX_ERROR, runtime errors SCRIPT_FAILED, each with the line and
 * column the device blamed when it named them.
 */
export function classifyErrorText(text: string): RunError | undefined {
  const trimmed = text.trim();
  const position = POSITION.exec(trimmed);
  const isSyntax = SYNTAX_PATTERNS.some((pattern) => pattern.test(trimmed));
  const isRuntime = RUNTIME_PATTERNS.some((pattern) => pattern.test(trimmed));

  if (!isSyntax && !isRuntime && position === null) {
    return undefined;
  }

  const error: RunError = {
    code: isSyntax ? 'SCRIPT_SYNTAX_ERROR' : 'SCRIPT_FAILED',
    message: isSyntax
      ? `the device could not parse the script: ${trimmed}; fix the script and run it again`
      : `the script failed on the device: ${trimmed}; check the device's state and the script`,
  };

  if (position !== null) {
    error.line = Number(position[1]);
    error.column = Number(position[2]);
  }

  return error;
}

/**
 * Classifies the output of a script run as a console prints it: an error, when there is one, is
 * the last non-empty line, printed after whatever the script printed before it failed.
 *
 * NOTE: a script that itself prints a line shaped like a device error as its last line is
 * classified as failed, because the device gives no other signal to tell the two apart.
 */
export function classifyOutput(output: string): RunError | undefined {
  const lines = output.split(/\r\n|\r|\n/).filter((line) => line.trim() !== '');
  const last = lines.at(-1);
  return last === undefined ? undefined : classifyErrorText(last);
}

/**
 * Returns the error of a script that stopped before its end marker. It is the device error in
 * the output when there is one. Otherwise it is SCRIPT_FAILED quoting the last line printed
 * (such as the text of an `:error`), or saying that nothing was printed.
 */
export function stoppedBeforeEndError(output: string): RunError {
  const lastLine = output
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== '')
    .at(-1);

  return (
    classifyOutput(output) ?? {
      code: 'SCRIPT_FAILED',
      message:
        lastLine === undefined
          ? 'the script stopped before its end without printing an error'
          : `the script stopped before its end: ${lastLine.trim()}`,
    }
  );
}

/**
 * Moves an error position that falls after the last line of `script` back to the end of the
 * script. Transports that append a marker line to a script get such positions when the script
 * leaves something open (a bracket, a string), so the parser reaches the marker line.
 */
export function clampToScript(error: RunError, script: string): RunError {
  const lines = script.split(/\r\n|\r|\n/);
  // A line break at the end of the script ends its last line rather than starting another.
  if (lines.length > 1 && lines.at(-1) === '') {
    lines.pop();
  }

  const lastLine = lines.length;
  if (error.line === undefined || error.line <= lastLine) {
    return error;
  }

  const column = (lines.at(-1)?.length ?? 0) + 1;
  return {
    ...error,
    line: lastLine,
    column,
    message: error.message.replace(
      /\(line \d+ column \d+\)/,
      `(line ${lastLine} column ${column})`,
    ),
  };
}
