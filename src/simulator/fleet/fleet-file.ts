import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { TRANSPORTS } from '../../devices/types.js';
import { AgentError } from '../../errors.js';
import { SSH_PROFILES } from '../ssh/algorithms.js';
import { FAULT_NAMES } from './faults.js';
import type { FleetDeviceOptions } from './options.js';

const port = z.number().int().min(0).max(65535);

const milliseconds = z.number().int().min(0);

/** One device of a fleet file; the fields of FleetDeviceOptions. */
const deviceSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
    .optional(),
  identity: z.string().optional(),
  // A bare 7.10 would parse as the number 7.1, so versions must be quoted strings.
  version: z.string({ error: 'expected a quoted version such as "7.10" or "6.49.10"' }).optional(),
  transport: z.enum(TRANSPORTS).optional(),
  services: z.array(z.enum(TRANSPORTS)).optional(),
  tlsMode: z.enum(['certificate', 'anonymous']).optional(),
  sshProfile: z.enum(SSH_PROFILES).optional(),
  strongCrypto: z.boolean().optional(),
  exitStatus: z.enum(['none', 'zero']).optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  passwordFile: z.string().optional(),
  authorizedKeys: z.string().optional(),
  keyFile: z.string().optional(),
  alwaysAllowPasswordLogin: z.boolean().optional(),
  allowedAddresses: z.array(z.string()).optional(),
  faults: z.array(z.enum(FAULT_NAMES)).optional(),
  latencyMs: milliseconds.optional(),
  rebootDelayMs: milliseconds.optional(),
  fragmentBytes: z.number().int().min(1).optional(),
  fragmentPauseMs: milliseconds.optional(),
  tags: z.array(z.string()).optional(),
  host: z.string().optional(),
  ports: z.strictObject({ api: port, apiSsl: port, ssh: port }).partial().optional(),
});

const fileSchema = z.union([
  z.array(deviceSchema),
  z.strictObject({ defaults: deviceSchema.optional(), devices: z.array(deviceSchema) }),
]);

/** A parsed fleet file: settings shared by every device, and the devices. */
export type FleetFile = { defaults: FleetDeviceOptions; devices: FleetDeviceOptions[] };

/**
 * Parses fleet file text: YAML or JSON (JSON is YAML), either a list of devices or an object with
 * `defaults` and `devices`. `source` names the file in errors. Field names are those of
 * FleetDeviceOptions, e.g.
 *
 * ```yaml
 * defaults: { version: '7.18.2', tlsMode: anonymous }
 * devices:
 *   - { id: core-1, faults: [hang] }
 *   - { id: branch-1, version: '6.49.10', strongCrypto: true, latencyMs: 200 }
 * ```
 */
export function parseFleetFile(text: string, source: string): FleetFile {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new AgentError('CONFIG_INVALID', `fleet file ${source} is not valid YAML or JSON`, {
      cause: error,
      details: { path: source },
    });
  }

  const result = fileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || '(top level)';
    throw new AgentError(
      'CONFIG_INVALID',
      `invalid fleet file ${source} at ${where}: ${issue?.message ?? 'invalid'}`,
      { details: { path: source, field: where } },
    );
  }

  const parsed = result.data;
  if (Array.isArray(parsed)) {
    return { defaults: {}, devices: parsed.map(withoutUndefined) };
  }

  return {
    defaults: withoutUndefined(parsed.defaults ?? {}),
    devices: parsed.devices.map(withoutUndefined),
  };
}

/** Drops absent fields, which `exactOptionalPropertyTypes` keeps apart from missing ones. */
function withoutUndefined(device: z.infer<typeof deviceSchema>): FleetDeviceOptions {
  return Object.fromEntries(
    Object.entries(device).filter(([, value]) => value !== undefined),
  ) as FleetDeviceOptions;
}
