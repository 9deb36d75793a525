import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { AgentError, errorMessage } from '../errors.js';
import type { PinKind, TrustStore } from './types.js';

/** The file's layout: pins by device id, then by kind. */
type PinFile = {
  version: 1;
  pins: Record<string, Partial<Record<PinKind, string>>>;
};

const PIN_KINDS: readonly PinKind[] = ['ssh-host-key', 'tls-certificate'];

/**
 * Returns where the command line keeps pins by default: `$XDG_STATE_HOME/edge-agent/known-hosts.json`,
 * or `~/.local/state/edge-agent/known-hosts.json` when XDG_STATE_HOME is unset.
 */
export function defaultKnownHostsPath(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome = env.XDG_STATE_HOME?.trim() || join(homedir(), '.local', 'state');
  return join(stateHome, 'edge-agent', 'known-hosts.json');
}

/**
 * Pins of host keys and certificate fingerprints in a JSON file, for the one-shot command line.
 * The file is read once when the store is created and rewritten whole on every pin, through a
 * temporary file and a rename so that a crash never leaves half a file.
 */
export class JsonFileTrustStore implements TrustStore {
  readonly path: string;

  /** Pins as last read or written; the file always matches after a successful `pin`. */
  private readonly content: PinFile;

  constructor(path: string) {
    this.path = path;
    this.content = readPinFile(path);
  }

  get(deviceId: string, kind: PinKind): string | undefined {
    return this.content.pins[deviceId]?.[kind];
  }

  pin(deviceId: string, kind: PinKind, fingerprint: string): void {
    const pins = this.content.pins[deviceId] ?? {};
    pins[kind] = fingerprint;
    this.content.pins[deviceId] = pins;

    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const temporary = `${this.path}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(this.content, null, 2)}\n`, { mode: 0o600 });
      renameSync(temporary, this.path);
    } catch (error) {
      throw new AgentError(
        'CONFIG_INVALID',
        `cannot write the known-hosts file ${this.path}: ${errorMessage(error)}; check that its directory is writable or pass --known-hosts`,
        { cause: error, details: { path: this.path } },
      );
    }
  }
}

function readPinFile(path: string): PinFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { version: 1, pins: {} };
    }

    throw invalidFile(path, errorMessage(error), error);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidFile(path, 'it is not valid JSON', error);
  }

  return validatePinFile(path, parsed);
}

function validatePinFile(path: string, parsed: unknown): PinFile {
  if (typeof parsed !== 'object' || parsed === null || !('pins' in parsed)) {
    throw invalidFile(path, 'expected an object with "version": 1 and "pins"');
  }

  const { version, pins } = parsed as { version?: unknown; pins: unknown };
  if (version !== 1 || typeof pins !== 'object' || pins === null) {
    throw invalidFile(path, 'expected "version": 1 and a "pins" object');
  }

  for (const [deviceId, entry] of Object.entries(pins)) {
    const valid =
      typeof entry === 'object' &&
      entry !== null &&
      Object.entries(entry).every(
        ([kind, value]) => PIN_KINDS.includes(kind as PinKind) && typeof value === 'string',
      );
    if (!valid) {
      throw invalidFile(path, `the pins of "${deviceId}" are not fingerprint strings by kind`);
    }
  }

  return { version: 1, pins: pins as PinFile['pins'] };
}

function invalidFile(path: string, reason: string, cause?: unknown): AgentError {
  return new AgentError(
    'CONFIG_INVALID',
    `cannot read the known-hosts file ${path}: ${reason}; fix or remove the file (this forgets its pins)`,
    { cause, details: { path } },
  );
}
