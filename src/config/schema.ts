import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';

import iconv from 'iconv-lite';
import { z } from 'zod';

import { TRANSPORTS } from '../devices/types.js';

/**
 * The schema of the configuration file as written, before `deviceDefaults` are merged and
 * defaults applied. Every object is strict so a misspelt key is reported rather than ignored.
 * Schema-level error texts are the "expected" half of a reported problem.
 */

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]+$/;

/** systemd credential names: no slash, no leading dot. */
const CREDENTIAL_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const SHA256_HEX_PATTERN = /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/;

const SSH_FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** A DNS name: dot-separated labels of letters, digits, `-` and `_`, not starting with `-`. */
const DNS_NAME_PATTERN =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Largest `runs.outputCapBytes`: 64 MiB, so that no setting lets one run's output fill memory. */
export const MAX_OUTPUT_CAP_BYTES = 64 * 1024 * 1024;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.int({ error: 'a TCP port from 1 to 65535' }).min(1).max(65535);

const filePath = z.string({ error: 'a file path' }).min(1, { error: 'a file path' });

const credentialName = z
  .string({ error: 'a systemd credential name' })
  .regex(CREDENTIAL_NAME_PATTERN, { error: 'a systemd credential name (no "/")' });

const MINUTE_MS = 60_000;

/** Upper bounds of the duration settings, in milliseconds. */
export const MAX_DURATION_MS = {
  /** 5 minutes: a connect and login that takes longer is not going to succeed. */
  connect: 5 * MINUTE_MS,
  /** 24 hours, the same cap the protocol puts on a job's `limits.runTimeoutMs`. */
  run: 24 * 60 * MINUTE_MS,
  /** 1 hour: the service manager has to wait this long for a stop. */
  drain: 60 * MINUTE_MS,
} as const;

/** Builds a schema of a whole number from `min` to `max`, with one "expected" text. */
function wholeNumberIn(min: number, max: number, unit = '') {
  const range = `a whole number${unit} from ${min} to ${max}`;
  return z.int({ error: range }).min(min, { error: range }).max(max, { error: range });
}

function duration(min: number, max: number) {
  return wholeNumberIn(min, max, ' of milliseconds');
}

/** Accepts no value: secrets are never written into the configuration file itself. */
function inlineSecret(fileKey: string, credentialKey: string) {
  return z
    .undefined({
      error: `no inline secret; put it in a file and set ${fileKey} or ${credentialKey}`,
    })
    .optional();
}

const sha256Fingerprint = z
  .string({ error: 'a SHA-256 fingerprint' })
  .regex(SHA256_HEX_PATTERN, { error: 'a SHA-256 fingerprint: 64 hex digits, colons allowed' });

const deviceFields = {
  name: z.string({ error: 'a name' }).min(1, { error: 'a non-empty name' }),
  transport: z.enum(TRANSPORTS, { error: `one of ${TRANSPORTS.join(', ')}` }),
  port,
  ports: z.strictObject({ api: port, apiSsl: port, ssh: port }).partial(),
  username: z.string({ error: 'a user name' }).min(1, { error: 'a non-empty user name' }),
  passwordFile: filePath,
  passwordCredential: credentialName,
  password: inlineSecret('passwordFile', 'passwordCredential'),
  keyFile: filePath,
  keyCredential: credentialName,
  privateKey: inlineSecret('keyFile', 'keyCredential'),
  passphraseFile: filePath,
  passphraseCredential: credentialName,
  passphrase: inlineSecret('passphraseFile', 'passphraseCredential'),
  codePage: z
    .string({ error: 'an iconv-lite encoding name' })
    .refine((name) => iconv.encodingExists(name), {
      error: 'an encoding iconv-lite supports, such as windows-1252 or windows-1251',
    }),
  tags: z.array(z.string({ error: 'a tag' }).min(1, { error: 'a non-empty tag' })),
  tls: z
    .strictObject({
      mode: z.enum(['certificate', 'anonymous'], { error: 'certificate or anonymous' }),
      fingerprint: sha256Fingerprint,
      caFile: filePath,
    })
    .partial(),
  ssh: z
    .strictObject({
      loginOptions: z
        .string({ error: 'RouterOS login options' })
        .regex(/^[a-z0-9]*$/, { error: 'RouterOS login options such as ct or cet1024w' }),
      hostKey: z
        .string({ error: 'an SSH host key fingerprint' })
        .regex(SSH_FINGERPRINT_PATTERN, { error: 'an SSH host key fingerprint SHA256:...' }),
    })
    .partial(),
};

export const deviceDefaultsSchema = z.strictObject(deviceFields).partial();

export const deviceSchema = z.strictObject({
  id: z
    .string({ error: 'a device id' })
    .regex(DEVICE_ID_PATTERN, { error: 'a device id of letters, digits, ".", "_" or "-"' }),
  host: z
    .string({ error: 'a host name or address' })
    .refine((host) => isIP(host) !== 0 || DNS_NAME_PATTERN.test(host), {
      error: 'an IP address or a DNS name, without scheme, port or path',
    }),
  ...z.strictObject(deviceFields).partial().shape,
});

const controlPlaneSchema = z.strictObject({
  url: z.string({ error: 'a ws:// or wss:// URL' }).refine(isWebSocketUrl, {
    error: 'a ws:// or wss:// URL',
  }),
  tokenFile: filePath.optional(),
  tokenCredential: credentialName.optional(),
  token: inlineSecret('tokenFile', 'tokenCredential'),
  jobSigningKey: z.strictObject({
    keyId: z.string({ error: 'a key id' }).min(1, { error: 'a non-empty key id' }),
    publicKey: z
      .string({ error: 'an Ed25519 public key' })
      .refine((text) => parseEd25519PublicKey(text) !== undefined, {
        error: 'an Ed25519 public key: PEM, base64 SPKI or base64 of the 32 raw bytes',
      }),
  }),
  caFile: filePath.optional(),
  fingerprint: sha256Fingerprint.optional(),
  allowInsecure: z.boolean({ error: 'true or false' }).optional(),
});

const runsSchema = z
  .strictObject({
    concurrency: wholeNumberIn(1, 1024),
    connectTimeoutMs: duration(1, MAX_DURATION_MS.connect),
    commandTimeoutMs: duration(1, MAX_DURATION_MS.run),
    runTimeoutMs: duration(1, MAX_DURATION_MS.run),
    outputCapBytes: z
      .int({ error: 'a whole number of bytes' })
      .min(1024, { error: 'a number of bytes of 1024 or more' })
      .max(MAX_OUTPUT_CAP_BYTES, { error: `at most ${MAX_OUTPUT_CAP_BYTES} bytes (64 MiB)` }),
    shutdownDrainMs: duration(0, MAX_DURATION_MS.drain),
  })
  .partial();

const statusSchema = z
  .strictObject({
    listen: z
      .string({ error: 'HOST:PORT' })
      .refine((text) => parseListenAddress(text) !== undefined, {
        error: 'HOST:PORT, such as 127.0.0.1:9181 or [::1]:9181',
      }),
    tokenFile: filePath,
    tokenCredential: credentialName,
    token: inlineSecret('tokenFile', 'tokenCredential'),
  })
  .partial();

const storeSchema = z
  .strictObject({
    path: filePath,
    retention: z
      .strictObject({
        maxAgeDays: z.number({ error: 'a number of days' }).positive({ error: 'more than 0 days' }),
        maxSizeMiB: z.number({ error: 'a number of MiB' }).min(1, { error: 'at least 1 MiB' }),
      })
      .partial(),
  })
  .partial();

export const configFileSchema = z.strictObject({
  siteId: z.uuid({ error: 'a UUID' }),
  logLevel: z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }).optional(),
  controlPlane: controlPlaneSchema,
  runs: runsSchema.optional(),
  status: statusSchema.optional(),
  store: storeSchema.optional(),
  deviceDefaults: deviceDefaultsSchema.optional(),
  devices: z.array(deviceSchema, { error: 'a list of devices' }).min(1, {
    error: 'a list of at least one device',
  }),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

export type DeviceEntry = z.infer<typeof deviceSchema>;

export type DeviceDefaults = z.infer<typeof deviceDefaultsSchema>;

function isWebSocketUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Parses an Ed25519 public key given as PEM, base64 of the SPKI DER or base64 of the 32 raw key
 * bytes, and returns it as SPKI PEM, or undefined when `text` is not such a key.
 */
export function parseEd25519PublicKey(text: string): string | undefined {
  const trimmed = text.trim();

  try {
    if (trimmed.startsWith('-----BEGIN')) {
      return toEd25519Pem(createPublicKey(trimmed));
    }

    const bytes = Buffer.from(trimmed, 'base64');
    const der = bytes.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, bytes]) : bytes;
    return toEd25519Pem(createPublicKey({ key: der, format: 'der', type: 'spki' }));
  } catch {
    return undefined;
  }
}

function toEd25519Pem(key: ReturnType<typeof createPublicKey>): string | undefined {
  if (key.asymmetricKeyType !== 'ed25519') {
    return undefined;
  }

  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * Parses `HOST:PORT` or `[IPv6]:PORT`, returning undefined when the text is neither. Port 0 lets
 * the kernel choose, which tests use.
 */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (match === null) {
    return undefined;
  }

  const port = Number(match[3]);
  if (port > 65535) {
    return undefined;
  }

  return { host: match[1] ?? match[2] ?? '', port };
}
