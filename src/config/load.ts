import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { parseDocument } from 'yaml';

import { AgentError, errorMessage } from '../errors.js';
import { buildConfig } from './build.js';
import { checkCrossSettings } from './checks.js';
import { applyEnvironment, CONFIG_FILE_VARIABLE } from './environment.js';
import {
  type ConfigProblem,
  configInvalidError,
  expectedTextMap,
  problemsFromIssues,
} from './problems.js';
import { configFileSchema } from './schema.js';
import type { AgentConfig } from './types.js';

/** Configuration file used when neither `--config` nor `EDGE_AGENT_CONFIG` is given. */
export const DEFAULT_CONFIG_FILE = '/etc/edge-agent/config.yaml';

export type LoadConfigOptions = {
  /** Environment with the overrides and `CREDENTIALS_DIRECTORY`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory that relative paths from environment variables resolve against. Default `process.cwd()`. */
  cwd?: string;
};

/** Picks the configuration file: `--config`, then `EDGE_AGENT_CONFIG`, then the default. */
export function resolveConfigFile(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return explicit ?? env[CONFIG_FILE_VARIABLE] ?? DEFAULT_CONFIG_FILE;
}

/**
 * Reads, validates and completes the configuration. Throws CONFIG_NOT_FOUND when the file does
 * not exist and CONFIG_INVALID listing every problem otherwise. Secrets are not read here; see
 * `verifySecrets`.
 */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<AgentConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sourceFile = path.resolve(cwd, file);
  const parsed = parseYaml(sourceFile, await readConfigText(sourceFile));

  const { data, variables, filesFromEnvironment } = applyEnvironment(parsed, env);
  const credentialsDirectory = nonEmpty(env.CREDENTIALS_DIRECTORY);
  const result = configFileSchema.safeParse(data, { reportInput: true, error: expectedTextMap });

  const problems: ConfigProblem[] = [
    ...(result.success ? [] : problemsFromIssues(result.error.issues, variables)),
    ...checkCrossSettings(data, variables, credentialsDirectory),
  ];

  if (!result.success || problems.length > 0) {
    throw configInvalidError(sourceFile, sortProblems(problems));
  }

  return buildConfig(result.data, sourceFile, {
    configDir: path.dirname(sourceFile),
    cwd,
    filesFromEnvironment,
    credentialsDirectory,
  });
}

async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AgentError(
        'CONFIG_NOT_FOUND',
        `configuration file ${file} does not exist; create it from config/edge-agent.example.yaml or pass --config`,
        { cause: error, details: { file } },
      );
    }

    throw configInvalidError(file, [
      { path: '(file)', expected: 'a readable file', found: errorMessage(error) },
    ]);
  }
}

/** Parses YAML, reporting every syntax error with its line and column. */
function parseYaml(file: string, text: string): unknown {
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length === 0) {
    return document.toJS();
  }

  const problems = document.errors.map((error) => {
    const position = error.linePos?.[0];
    const where = position === undefined ? '' : ` at line ${position.line} column ${position.col}`;
    return { path: '(file)', expected: 'valid YAML', found: `${error.message}${where}` };
  });

  throw configInvalidError(file, problems);
}

/** Orders problems by path so a report reads like the file, stable for equal paths. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort(
      (a, b) =>
        a.problem.path.localeCompare(b.problem.path, 'en', { numeric: true }) || a.index - b.index,
    )
    .map(({ problem }) => problem);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
