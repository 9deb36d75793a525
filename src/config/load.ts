import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

import type * as JsYaml from 'js-yaml';

import { AgentError, errorMessage } from '../errors.js';
import { safeParse } from '../validation.js';
import { buildConfig } from './build.js';
import { checkCrossSettings } from './checks.js';
import { applyEnvironment, CONFIG_FILE_VARIABLE } from './environment.js';
import { type ConfigProblem, configInvalidError, problemsFromIssues } from './problems.js';
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
  const result = safeParse(configFileSchema, data);

  const problems: ConfigProblem[] = [
    ...(result.success ? [] : problemsFromIssues(result.issues, variables)),
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

/**
 * Alias nodes (`*name`) one configuration may hold. An alias is the same object as its anchor,
 * so the limit bounds how far a small file can fan out when it is validated.
 */
const MAX_ALIASES = 100;

/**
 * Parses the file as one YAML document, reporting a syntax error with its line and column.
 * js-yaml rather than the yaml package: it parses a 1,000-device file in about a fifth of the
 * time, which was the largest part of the daemon's start. An empty file parses as an empty value.
 */
function parseYaml(file: string, text: string): unknown {
  const documents = withYamlParser((yaml) => {
    try {
      return yaml.loadAll(text, { maxAliases: MAX_ALIASES });
    } catch (error) {
      throw configInvalidError(file, [
        { path: '(file)', expected: 'valid YAML', found: describeYamlError(yaml, error) },
      ]);
    }
  });

  if (documents.length > 1) {
    throw configInvalidError(file, [
      { path: '(file)', expected: 'one YAML document', found: `${documents.length} documents` },
    ]);
  }

  return documents[0] ?? null;
}

/**
 * Calls `parse` with js-yaml, loaded for this call alone. The module leaves the require cache
 * afterwards, so its source text and functions, 0.5 MiB of the idle daemon's heap, are freed
 * once the configuration is read. A reload loads it again, in about 4 ms.
 */
function withYamlParser<T>(parse: (yaml: typeof JsYaml) => T): T {
  const require = createRequire(import.meta.url);
  const id = require.resolve('js-yaml');
  try {
    return parse(require(id) as typeof JsYaml);
  } finally {
    delete require.cache[id];
  }
}

/** Describes a YAML error by its reason and position, never by the snippet of the file. */
function describeYamlError(yaml: typeof JsYaml, error: unknown): string {
  if (!(error instanceof yaml.YAMLException)) {
    return errorMessage(error);
  }

  const mark = error.mark;
  return mark === undefined
    ? error.reason
    : `${error.reason} at line ${mark.line + 1} column ${mark.column + 1}`;
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
