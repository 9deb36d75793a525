import type { z } from 'zod';

import { type ConfigProblem, describeFound, firstPerPath, formatPath } from '../config/problems.js';

/*
 * The control plane validates its configuration with zod, which the agent does not load (see
 * src/validation.ts). These turn zod's issues into the problems the agent reports.
 */

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of keys to values',
  array: 'a list',
};

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

/** Turns zod issues into problems, one per path, the first issue of each path. */
export function problemsFromZodIssues(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return firstPerPath(issues.flatMap(problemsOfIssue));
}

function problemsOfIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      expected: issue.message,
      found: 'a key this version does not know',
    }));
  }

  return [
    {
      path: formatPath(issue.path),
      expected: issue.message,
      found: describeFound(issue.path, issue.input),
    },
  ];
}
