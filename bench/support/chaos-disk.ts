import { execFile, execFileSync } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small tmpfs that the driver mounts for the agent's store, so it can fill the disk under
 * the agent without touching any other file system. Mounting needs root (CAP_SYS_ADMIN).
 */
export class SmallDisk {
  readonly mountPoint: string;

  private readonly filler: string;

  private readonly unmountOnExit = (): void => {
    try {
      execFileSync('umount', ['--lazy', this.mountPoint]);
    } catch {
      // Already unmounted.
    }
  };

  private constructor(mountPoint: string) {
    this.mountPoint = mountPoint;
    this.filler = path.join(mountPoint, 'filler');
  }

  /** Mounts a tmpfs of `sizeMiB` at `mountPoint`, which is created if missing. */
  static async mount(mountPoint: string, sizeMiB: number): Promise<SmallDisk> {
    await mkdir(mountPoint, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', mountPoint]);
    const disk = new SmallDisk(mountPoint);
    process.on('exit', disk.unmountOnExit);
    return disk;
  }

  /** Writes a filler file until the file system reports ENOSPC; returns the bytes written. */
  async fill(): Promise<number> {
    const file = await open(this.filler, 'a');
    let written = 0;
    try {
      for (const size of [1 << 20, 1 << 12, 1 << 9]) {
        const chunk = Buffer.alloc(size);
        for (;;) {
          try {
            written += (await file.write(chunk)).bytesWritten;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') {
              throw error;
            }

            break;
          }
        }
      }
    } finally {
      await file.close();
    }

    return written;
  }

  /** Deletes the filler file, which gives the space back. */
  async free(): Promise<void> {
    await rm(this.filler, { force: true });
  }

  async unmount(): Promise<void> {
    process.off('exit', this.unmountOnExit);
    await run('umount', [this.mountPoint]);
  }
}
