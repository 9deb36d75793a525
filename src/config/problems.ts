import { AgentError } from '../errors.js';
import type { Issue } from '../validation.js';

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
 * Turns validation issues into problems, one per path: a value that fails several checks is
 * reported once, by its first issue. `variables` maps a dotted path to the variable that set it.
 */
export function problemsFromIssues(
  issues: readonly Issue[],
  variables: ReadonlyMap<string, string>,
): ConfigProblem[] {
  const problems = issues.map((issue) => withVariable(problemOfIssue(issue), variables));
  return firstPerPath(problems);
}

/** Keeps the first problem of each path, in order. */
export function firstPerPath(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();

  return problems.filter((problem) => {
    const first = !seen.has(problem.path);
    seen.add(problem.path);
    return first;
  });
}

function problemOfIssue(issue: Issue): ConfigProblem {
  const path = formatPath(issue.path);
  if (issue.unknownKey) {
    return { path, expected: issue.expected, found: 'a key this version does not know' };
  }

  return { path, expected: issue.expected, found: describeFound(issue.path, issue.input) };
}

/** Describes the value found at `path`, without showing it when its key names a secret. */
export function describeFound(path: readonly PropertyKey[], value: unknown): string {
  const last = path.at(-1);
  const secret = typeof last === 'string' && SECRET_KEYS.has(last);
  return secret ? 'an inline secret' : describeValue(value);
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
  const fix = problems.length === 1 ? 'fix it' : 'fix them';

  return new AgentError(
    'CONFIG_INVALID',
    `configuration ${file} has ${count}; ${fix} and run "edge-agent check-config":\n${lines.join('\n')}`,
    { details: { file, problems } },
  );
}
