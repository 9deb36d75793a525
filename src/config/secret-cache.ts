import type { Clock } from '../clock.js';
import type { DeviceConfig, DeviceCredentials } from '../devices/types.js';
import { type ReadFileBytes, readDeviceCredentials, readFileBytes } from './secrets.js';

/** How long a secret file read for one run serves later runs, in milliseconds. */
export const SECRET_CACHE_MS = 5000;

export type SecretCacheOptions = {
  clock: Clock;
  /** How long a file's contents are reused, in milliseconds. Default `SECRET_CACHE_MS`. */
  maxAgeMs?: number;
  /** Reads a file. Default `readFileBytes`. */
  read?: ReadFileBytes;
};

/** One file read, finished or under way. */
type CachedFile = { readAt: number; bytes: Promise<Buffer> };

/**
 * The device secret files as the runner reads them: each file at most once per `maxAgeMs`,
 * and runs that start while a read is under way share it. Many devices name the same password
 * file, and a read is four requests to libuv's thread pool (open, stat, read, close), each
 * waiting for a turn of the event loop. In the API fan-out benchmark (100 runs at once), a read
 * on every run delayed each run by 12 ms on average.
 *
 * A failed read is not kept, so the next run reads the file again. A secret changed on disk
 * reaches the runs that start at most `maxAgeMs` later, or at once after `forget`, which the
 * daemon calls when it reloads its configuration.
 */
export class SecretCache {
  private readonly clock: Clock;

  private readonly maxAgeMs: number;

  private readonly read: ReadFileBytes;

  /** File reads by path. An entry leaves when its read fails or a later read replaces it. */
  private readonly files = new Map<string, CachedFile>();

  constructor(options: SecretCacheOptions) {
    this.clock = options.clock;
    this.maxAgeMs = options.maxAgeMs ?? SECRET_CACHE_MS;
    this.read = options.read ?? readFileBytes;
  }

  /** Reads a device's password, key and passphrase files; the runner's `readCredentials`. */
  readonly readCredentials = (device: DeviceConfig): Promise<DeviceCredentials> =>
    readDeviceCredentials(device, this.readFile);

  /** Drops every file read, so the next run reads the files again. */
  forget(): void {
    this.files.clear();
  }

  private readonly readFile = (file: string): Promise<Buffer> => {
    const now = this.clock.now();
    const cached = this.files.get(file);
    // A clock set back makes the age negative; such an entry is read again too.
    if (cached !== undefined && now >= cached.readAt && now - cached.readAt < this.maxAgeMs) {
      return cached.bytes;
    }

    const entry: CachedFile = { readAt: now, bytes: this.read(file) };
    this.files.set(file, entry);
    entry.bytes.catch(() => {
      if (this.files.get(file) === entry) {
        this.files.delete(file);
      }
    });
    return entry.bytes;
  };
}
