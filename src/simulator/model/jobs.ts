import { writeFile } from './files.js';
import { formatDeviceDate } from './profiles.js';
import type { DeviceRuntime, ScriptSource } from './runtime.js';
import type { Origin } from './types.js';

/** File name `:execute file=` writes: RouterOS adds `.txt` unless the name has it. */
export function outputFileName(name: string): string {
  return name.endsWith('.txt') ? name : `${name}.txt`;
}

/**
 * Background scripts of one device, listed in `/system script job` while they run. A job
 * started with a file writes everything it printed to that file when it ends, which is how
 * RouterOS 6 scripts capture output.
 */
export class JobRunner {
  private readonly runtime: DeviceRuntime;

  /** Abort controllers of running jobs by job id; an entry is removed when its job ends. */
  private readonly running = new Map<number, AbortController>();

  constructor(runtime: DeviceRuntime) {
    this.runtime = runtime;
  }

  get count(): number {
    return this.running.size;
  }

  start(
    script: ScriptSource,
    options: { file: string | undefined; origin: Origin; name: string | undefined },
  ): number {
    const { runtime } = this;
    const spec = runtime.engine.spec('system/script/job');
    const item = runtime.engine.insertInternal(spec, {
      type: 'command',
      script: options.name ?? '',
      owner: 'admin',
      started: formatDeviceDate(runtime.version, new Date(runtime.clock.now())),
    });
    const controller = new AbortController();
    this.running.set(item.id, controller);
    const finished = runtime.runSource(script, {
      signal: controller.signal,
      origin: options.origin,
    });
    void finished
      .then((outcome) => {
        if (options.file !== undefined) {
          const failure =
            outcome.run.failure === undefined ? '' : `${outcome.run.failure.message}\r\n`;
          writeFile(runtime, outputFileName(options.file), outcome.run.output + failure);
        }
      })
      .catch((error: unknown) => {
        runtime.log('script,error', `job failed: ${String(error)}`);
      })
      .finally(() => {
        this.running.delete(item.id);
        runtime.engine.removeInternal(spec, (entry) => entry.id !== item.id);
      });
    return item.id;
  }

  stop(id: number): void {
    this.running.get(id)?.abort();
  }

  stopAll(): void {
    for (const controller of this.running.values()) {
      controller.abort();
    }
  }
}
