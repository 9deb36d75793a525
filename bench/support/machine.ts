import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine a benchmark ran on, as `docs/benchmarks.md` records it. */
export type MachineInfo = {
  cpuModel: string;
  cores: number;
  memoryMiB: number;
  node: string;
  kernel: string;
  /** Device of the temporary directory's file system, where every store file lives. */
  tmpdir: string;
};

/** Reads the CPU model from /proc/cpuinfo and the rest from `node:os`. */
export function describeMachine(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    tmpdir: os.tmpdir(),
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('model name'));
    return line?.slice(line.indexOf(':') + 1).trim() ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}
