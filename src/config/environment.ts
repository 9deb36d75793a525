import { formatPath } from './problems.js';

/** One setting that an environment variable overrides. */
type EnvironmentOverride = {
  variable: string;
  path: readonly string[];
  /** Converts the text; a value it cannot convert stays text so validation reports it. */
  parse?: (text: string) => unknown;
  /** The value is a file path, resolved against the working directory rather than the file's. */
  isFile?: boolean;
  /** A sibling key that the override replaces, such as `tokenCredential` for `tokenFile`. */
  replaces?: string;
};

/** Variable that names the configuration file when `--config` is not given. */
export const CONFIG_FILE_VARIABLE = 'EDGE_AGENT_CONFIG';

/** Every environment variable that overrides a setting of the configuration file. */
export const ENVIRONMENT_OVERRIDES: readonly EnvironmentOverride[] = [
  { variable: 'EDGE_AGENT_SITE_ID', path: ['siteId'] },
  { variable: 'EDGE_AGENT_LOG_LEVEL', path: ['logLevel'] },
  { variable: 'EDGE_AGENT_CONTROL_PLANE_URL', path: ['controlPlane', 'url'] },
  {
    variable: 'EDGE_AGENT_CONTROL_PLANE_TOKEN_FILE',
    path: ['controlPlane', 'tokenFile'],
    isFile: true,
    replaces: 'tokenCredential',
  },
  {
    variable: 'EDGE_AGENT_CONTROL_PLANE_CA_FILE',
    path: ['controlPlane', 'caFile'],
    isFile: true,
  },
  { variable: 'EDGE_AGENT_CONTROL_PLANE_FINGERPRINT', path: ['controlPlane', 'fingerprint'] },
  {
    variable: 'EDGE_AGENT_ALLOW_INSECURE',
    path: ['controlPlane', 'allowInsecure'],
    parse: parseBoolean,
  },
  { variable: 'EDGE_AGENT_JOB_SIGNING_KEY_ID', path: ['controlPlane', 'jobSigningKey', 'keyId'] },
  { variable: 'EDGE_AGENT_JOB_SIGNING_KEY', path: ['controlPlane', 'jobSigningKey', 'publicKey'] },
  { variable: 'EDGE_AGENT_CONCURRENCY', path: ['runs', 'concurrency'], parse: parseInteger },
  { variable: 'EDGE_AGENT_STATUS_LISTEN', path: ['status', 'listen'] },
  {
    variable: 'EDGE_AGENT_STATUS_TOKEN_FILE',
    path: ['status', 'tokenFile'],
    isFile: true,
    replaces: 'tokenCredential',
  },
  { variable: 'EDGE_AGENT_STORE_PATH', path: ['store', 'path'], isFile: true },
];

export type EnvironmentResult = {
  /** The file's contents with every override applied. */
  data: unknown;
  /** Dotted path of each overridden setting to the variable that set it. */
  variables: Map<string, string>;
  /** Dotted paths of file settings that came from variables. */
  filesFromEnvironment: Set<string>;
};

/**
 * Applies the overrides set in `env` to the parsed file. Values that are not mappings where a
 * mapping is needed are left alone, so validation reports them at their own path.
 */
export function applyEnvironment(data: unknown, env: NodeJS.ProcessEnv): EnvironmentResult {
  const result: EnvironmentResult = {
    data,
    variables: new Map(),
    filesFromEnvironment: new Set(),
  };

  if (!isRecord(data)) {
    return result;
  }

  for (const override of ENVIRONMENT_OVERRIDES) {
    const text = env[override.variable];
    if (text === undefined || text === '') {
      continue;
    }

    const parent = ensureParent(data, override.path);
    const key = override.path.at(-1);
    if (parent === undefined || key === undefined) {
      continue;
    }

    parent[key] = override.parse === undefined ? text : override.parse(text);
    if (override.replaces !== undefined) {
      delete parent[override.replaces];
    }

    const dotted = formatPath(override.path);
    result.variables.set(dotted, override.variable);
    if (override.isFile === true) {
      result.filesFromEnvironment.add(dotted);
    }
  }

  return result;
}

function ensureParent(
  root: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> | undefined {
  let current = root;

  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (next === undefined || next === null) {
      const created: Record<string, unknown> = {};
      current[key] = created;
      current = created;
    } else if (isRecord(next)) {
      current = next;
    } else {
      return undefined;
    }
  }

  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseBoolean(text: string): unknown {
  const lower = text.toLowerCase();
  if (['1', 'true', 'yes'].includes(lower)) {
    return true;
  }

  if (['0', 'false', 'no'].includes(lower)) {
    return false;
  }

  return text;
}

function parseInteger(text: string): unknown {
  return /^\d+$/.test(text) ? Number(text) : text;
}
