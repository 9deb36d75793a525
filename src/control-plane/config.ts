import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ConfigProblem, formatProblem } from '../config/problems.js';
import { AgentError, errorMessage } from '../errors.js';
import { isLoopbackHost } from '../protocol/addresses.js';
import { expectedTextMap, problemsFromZodIssues } from './config-problems.js';

const SITE_TOKEN_HASH = /^sha256:[0-9a-f]{64}$/;

const siteSchema = z.strictObject({
  id: z.uuid(),
  name: z.string().min(1).max(256),
  /** `sha256:` and the hex SHA-256 of the site's agent token; see `edge-control-plane site-token`. */
  tokenHash: z.string().regex(SITE_TOKEN_HASH, '"sha256:" and 64 lower-case hex digits'),
});

const configSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(8443),
      tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    })
    .prefault({}),
  database: z.string().min(1),
  jwt: z.strictObject({
    secretFile: z.string().min(1),
    issuer: z.string().min(1).default('edge-control-plane'),
    audience: z.string().min(1).default('scripts-api'),
  }),
  signingKeyFile: z.string().min(1),
  delivery: z
    .strictObject({
      leadSeconds: z.int().min(0).max(86_400).default(600),
      defaultExpirySeconds: z
        .int()
        .min(60)
        .max(30 * 86_400)
        .default(3600),
    })
    .prefault({}),
  heartbeatIntervalSeconds: z.int().min(1).max(600).default(30),
  docsUrl: z.url().default('https://docs.example.com/routeros-edge-agent/errors'),
  sites: z.array(siteSchema).default([]),
});

/** A site as configured: its id, name and the hash of its agent token. */
export type SiteConfig = z.infer<typeof siteSchema>;

/**
 * The control plane's configuration, with relative file paths resolved against the directory
 * of the configuration file.
 */
export type ControlPlaneConfig = z.infer<typeof configSchema>;

/** Parses and checks a configuration object; `baseDir` resolves relative paths. */
export function parseControlPlaneConfig(
  value: unknown,
  source: string,
  baseDir: string,
): ControlPlaneConfig {
  const parsed = configSchema.safeParse(value, { reportInput: true, error: expectedTextMap });
  if (!parsed.success) {
    const problems = problemsFromZodIssues(parsed.error.issues).map((problem) =>
      problem.found === 'nothing'
        ? { ...problem, found: 'nothing (the setting is missing)' }
        : problem,
    );
    throw invalidConfig(problems, source);
  }

  const config = parsed.data;
  if (config.listen.tls === undefined && !isLoopbackHost(config.listen.host)) {
    throw new AgentError(
      'CONFIG_INVALID',
      `Configuration ${source}: listen.host ${config.listen.host} is not loopback, so listen.tls (certFile, keyFile) is required`,
      { details: { source, field: 'listen.tls' } },
    );
  }

  checkUniqueSites(config.sites, source);
  return resolvePaths(config, baseDir);
}

/**
 * Creates the CONFIG_INVALID error listing every schema problem, one per line, in the shape of
 * the agent's configuration errors.
 */
function invalidConfig(problems: readonly ConfigProblem[], source: string): AgentError {
  const lines = problems.map((problem) => `  ${formatProblem(problem)}`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const fix = problems.length === 1 ? 'fix it' : 'fix them';

  return new AgentError(
    'CONFIG_INVALID',
    `Configuration ${source} has ${count}; ${fix} and start again:\n${lines.join('\n')}`,
    { details: { source, field: problems[0]?.path ?? '', problems } },
  );
}

function checkUniqueSites(sites: readonly SiteConfig[], source: string): void {
  const seen = new Set<string>();
  for (const site of sites) {
    if (seen.has(site.id)) {
      throw new AgentError(
        'CONFIG_INVALID',
        `Configuration ${source} lists site ${site.id} twice; each site id must be unique`,
        { details: { source, field: 'sites' } },
      );
    }

    seen.add(site.id);
  }
}

function resolvePaths(config: ControlPlaneConfig, baseDir: string): ControlPlaneConfig {
  const resolve = (file: string): string => path.resolve(baseDir, file);
  const tls = config.listen.tls;

  return {
    ...config,
    listen: {
      ...config.listen,
      ...(tls === undefined
        ? {}
        : { tls: { certFile: resolve(tls.certFile), keyFile: resolve(tls.keyFile) } }),
    },
    database: config.database === ':memory:' ? config.database : resolve(config.database),
    jwt: { ...config.jwt, secretFile: resolve(config.jwt.secretFile) },
    signingKeyFile: resolve(config.signingKeyFile),
  };
}

/** Reads a YAML or JSON configuration file (JSON is YAML, so one parser reads both). */
export async function loadControlPlaneConfig(file: string): Promise<ControlPlaneConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AgentError(
      'CONFIG_NOT_FOUND',
      `Cannot read configuration file ${file} (${errorMessage(error)}); pass the right file with --config, or write one as the Configuration section of docs/control-plane.md describes`,
      { cause: error, details: { file } },
    );
  }

  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new AgentError('CONFIG_INVALID', `Configuration file ${file} is not valid YAML or JSON`, {
      cause: error,
      details: { file },
    });
  }

  return parseControlPlaneConfig(value, file, path.dirname(path.resolve(file)));
}
