import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';

import iconv from 'iconv-lite';
import { TRANSPORTS } from '../devices/types.js';
import {
  absent,
  array,
  boolean,
  type Infer,
  integer,
  number,
  object,
  oneOf,
  optional,
  partial,
  string,
  uuid,
} from '../validation.js';

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

const port = integer({ expected: 'a TCP port from 1 to 65535', min: 1, max: 65535 });

const filePath = string({ expected: 'a file path', min: 1 });

const credentialName = string({
  expected: 'a systemd credential name',
  invalid: 'a systemd credential name (no "/")',
  pattern: CREDENTIAL_NAME_PATTERN,
});

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
  return integer({ expected: `a whole number${unit} from ${min} to ${max}`, min, max });
}

function duration(min: number, max: number) {
  return wholeNumberIn(min, max, ' of milliseconds');
}

/** Accepts no value: secrets are never written into the configuration file itself. */
function inlineSecret(fileKey: string, credentialKey: string) {
  return absent(`no inline secret; put it in a file and set ${fileKey} or ${credentialKey}`);
}

const sha256Fingerprint = string({
  expected: 'a SHA-256 fingerprint',
  invalid: 'a SHA-256 fingerprint: 64 hex digits, colons allowed',
  pattern: SHA256_HEX_PATTERN,
});

const deviceFields = {
  name: string({ expected: 'a name', invalid: 'a non-empty name', min: 1 }),
  transport: oneOf(TRANSPORTS),
  port,
  ports: object(partial({ api: port, apiSsl: port, ssh: port }), { strict: true }),
  username: string({ expected: 'a user name', invalid: 'a non-empty user name', min: 1 }),
  passwordFile: filePath,
  passwordCredential: credentialName,
  password: inlineSecret('passwordFile', 'passwordCredential'),
  keyFile: filePath,
  keyCredential: credentialName,
  privateKey: inlineSecret('keyFile', 'keyCredential'),
  passphraseFile: filePath,
  passphraseCredential: credentialName,
  passphrase: inlineSecret('passphraseFile', 'passphraseCredential'),
  codePage: string({
    expected: 'an iconv-lite encoding name',
    invalid: 'an encoding iconv-lite supports, such as windows-1252 or windows-1251',
    test: (name) => iconv.encodingExists(name),
  }),
  tags: array(string({ expected: 'a tag', invalid: 'a non-empty tag', min: 1 })),
  tls: object(
    partial({
      mode: oneOf(['certificate', 'anonymous'], { expected: 'certificate or anonymous' }),
      fingerprint: sha256Fingerprint,
      caFile: filePath,
    }),
    { strict: true },
  ),
  ssh: object(
    partial({
      loginOptions: string({
        expected: 'RouterOS login options',
        invalid: 'RouterOS login options such as ct or cet1024w',
        pattern: /^[a-z0-9]*$/,
      }),
      hostKey: string({
        expected: 'an SSH host key fingerprint',
        invalid: 'an SSH host key fingerprint SHA256:...',
        pattern: SSH_FINGERPRINT_PATTERN,
      }),
    }),
    { strict: true },
  ),
};

export const deviceDefaultsSchema = object(partial(deviceFields), { strict: true });

export const deviceSchema = object(
  {
    id: string({
      expected: 'a device id',
      invalid: 'a device id of letters, digits, ".", "_" or "-"',
      pattern: DEVICE_ID_PATTERN,
    }),
    host: string({
      expected: 'a host name or address',
      invalid: 'an IP address or a DNS name, without scheme, port or path',
      test: (host) => isIP(host) !== 0 || DNS_NAME_PATTERN.test(host),
    }),
    ...partial(deviceFields),
  },
  { strict: true },
);

const controlPlaneSchema = object(
  {
    url: string({ expected: 'a ws:// or wss:// URL', test: isWebSocketUrl }),
    tokenFile: optional(filePath),
    tokenCredential: optional(credentialName),
    token: inlineSecret('tokenFile', 'tokenCredential'),
    jobSigningKey: object(
      {
        keyId: string({ expected: 'a key id', invalid: 'a non-empty key id', min: 1 }),
        publicKey: string({
          expected: 'an Ed25519 public key',
          invalid: 'an Ed25519 public key: PEM, base64 SPKI or base64 of the 32 raw bytes',
          test: (text) => parseEd25519PublicKey(text) !== undefined,
        }),
      },
      { strict: true },
    ),
    caFile: optional(filePath),
    fingerprint: optional(sha256Fingerprint),
    allowInsecure: optional(boolean()),
  },
  { strict: true },
);

const runsSchema = object(
  partial({
    concurrency: wholeNumberIn(1, 1024),
    connectTimeoutMs: duration(1, MAX_DURATION_MS.connect),
    commandTimeoutMs: duration(1, MAX_DURATION_MS.run),
    runTimeoutMs: duration(1, MAX_DURATION_MS.run),
    outputCapBytes: integer({
      expected: 'a whole number of bytes',
      invalid: `a whole number of bytes from 1024 to ${MAX_OUTPUT_CAP_BYTES} (64 MiB)`,
      min: 1024,
      max: MAX_OUTPUT_CAP_BYTES,
    }),
    shutdownDrainMs: duration(0, MAX_DURATION_MS.drain),
  }),
  { strict: true },
);

const statusSchema = object(
  partial({
    listen: string({
      expected: 'HOST:PORT',
      invalid: 'HOST:PORT, such as 127.0.0.1:9181 or [::1]:9181',
      test: (text) => parseListenAddress(text) !== undefined,
    }),
    tokenFile: filePath,
    tokenCredential: credentialName,
    token: inlineSecret('tokenFile', 'tokenCredential'),
  }),
  { strict: true },
);

const storeSchema = object(
  partial({
    path: filePath,
    retention: object(
      partial({
        maxAgeDays: number({ expected: 'a number of days', invalid: 'more than 0 days', above: 0 }),
        maxSizeMiB: number({ expected: 'a number of MiB', invalid: 'at least 1 MiB', min: 1 }),
      }),
      { strict: true },
    ),
  }),
  { strict: true },
);

export const configFileSchema = object(
  {
    siteId: uuid(),
    logLevel: optional(oneOf(LOG_LEVELS)),
    controlPlane: controlPlaneSchema,
    runs: optional(runsSchema),
    status: optional(statusSchema),
    store: optional(storeSchema),
    deviceDefaults: optional(deviceDefaultsSchema),
    devices: array(deviceSchema, {
      expected: 'a list of devices',
      invalid: 'a list of at least one device',
      min: 1,
    }),
  },
  { strict: true },
);

export type ConfigFile = Infer<typeof configFileSchema>;

export type DeviceEntry = Infer<typeof deviceSchema>;

export type DeviceDefaults = Infer<typeof deviceDefaultsSchema>;

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
