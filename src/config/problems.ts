import type { z } from 'zod';

import { AgentError } from '../errors.js';

/** One thing wrong with the configuration, as reported to the operator. */
export type ConfigProblem = {
  /** Location of the value, such as `devices[2].host`. */
  path: string;
  /** Description of a valid value. */
  expected: string;
  /** Description of the value found. Secrets are never echoed. */
  found: string;
  /** Environment variable the value came from, when it overrode the file. */
  variable?: string;
};

/** Keys whose values are secrets, so a problem report never shows them. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'passphrase', 'privateKey', 'token']);

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of keys to values',
  array: 'a list',
};

/** Renders `['devices', 2, 'host']` as `devices[2].host`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';

  for (const key of path) {
    if (typeof key === 'number') {
      text += `[${key}]`;
    } else {
      text += text === '' ? String(key) : `.${String(key)}`;
    }
  }

  return text === '' ? '(top level)' : text;
}

/** Describes a value found in the file, short enough for one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }

  if (value === null) {
    return 'an empty value';
  }

  if (Array.isArray(value)) {
    return `a list of ${value.length} items`;
  }

  if (typeof value === 'object') {
    return 'a mapping';
  }

  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `the string ${JSON.stringify(shown)}`;
  }

  return `${typeof value} ${String(value)}`;
}

/**
 * Returns the "expected" text of issues whose schema gives none, such as a whole section of the
 * wrong type or a value outside a range.
 */
export const expectedTextMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_NAMES[issue.expected] ?? String(issue.expected);
    case 'invalid_value':
      return `one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return `at least ${String(issue.minimum)}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return 'a known setting (check the spelling)';
    default:
      return 'a valid value';
  }
};

/**
 * Turns zod issues into problems, one per path: a value that fails several checks (such as
 * 1e30 for a whole number of at most 1024) is reported once, by its first issue. `variables`
 * maps a dotted path to the variable that set it.
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  variables: ReadonlyMap<string, string>,
): ConfigProblem[] {
  const problems = issues.flatMap((issue) => problemsOfIssue(issue, variables));
  const seen = new Set<string>();

  return problems.filter((problem) => {
    const first = !seen.has(problem.path);
    seen.add(problem.path);
    return first;
  });
}

function problemsOfIssue(
  issue: z.core.$ZodIssue,
  variables: ReadonlyMap<string, string>,
): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      expected: issue.message,
      found: 'a key this version does not know',
    }));
  }

  const path = formatPath(issue.path);
  const last = issue.path.at(-1);
  const secret = typeof last === 'string' && SECRET_KEYS.has(last);
  const found = secret ? 'an inline secret' : describeValue(issue.input);

  return [withVariable({ path, expected: issue.message, found }, variables)];
}

/** Adds the environment variable that set the value at `problem.path`, if one did. */
export function withVariable(
  problem: ConfigProblem,
  variables: ReadonlyMap<string, string>,
): ConfigProblem {
  const variable = variables.get(problem.path);
  return variable === undefined ? problem : { ...problem, variable };
}

/** Formats a problem as `path: expected X, found Y (from VARIABLE)`. */
export function formatProblem(problem: ConfigProblem): string {
  const source = problem.variable === undefined ? '' : ` (from ${problem.variable})`;
  return `${problem.path}: expected ${problem.expected}, found ${problem.found}${source}`;
}

/** Creates the single CONFIG_INVALID error that lists every problem of a configuration file. */
export function configInvalidError(file: string, problems: readonly ConfigProblem[]): AgentError {
  const lines = problems.map((problem) => `  ${formatProblem(problem)}`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;

  return new AgentError(
    'CONFIG_INVALID',
    `configuration ${file} has ${count}; fix them and run "edge-agent check-config":\n${lines.join('\n')}`,
    { details: { file, problems } },
  );
}
