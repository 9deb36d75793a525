import { readdirSync, readFileSync } from 'node:fs';

/** Memory of a process and all its descendants at one moment, in bytes. */
export type TreeMemory = {
  /** Sum of resident set sizes; pages shared between processes count once per process. */
  rss: number;
  /** Sum of proportional set sizes; a page shared by n processes counts 1/n in each. */
  pss: number;
  processes: number;
};

/** Returns the pids of `root` and every process descended from it, from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();

  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) {
      continue;
    }

    const parent = parentOf(pid);
    if (parent !== undefined) {
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    }
  }

  const tree: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }

  return tree;
}

/**
 * Reads the memory of the processes descended from `root` (not `root` itself, which is the
 * measuring `/usr/bin/time`). Processes that exit meanwhile are skipped.
 */
export function descendantMemory(root: number): TreeMemory {
  const total: TreeMemory = { rss: 0, pss: 0, processes: 0 };

  for (const pid of processTree(root).slice(1)) {
    const memory = readMemory(pid);
    if (memory.processes === 0) {
      continue;
    }

    total.rss += memory.rss;
    total.pss += memory.pss;
    total.processes += 1;
  }

  return total;
}

/** Reads the RSS and PSS of one process from /proc/PID/smaps_rollup; zeros once it exited. */
export function readMemory(pid: number): TreeMemory {
  const { rss, pss, anonymous } = readResidentMemory(pid);
  return { rss, pss, processes: anonymous === undefined ? 0 : 1 };
}

/** Resident memory of one process, in bytes. */
export type ResidentMemory = {
  rss: number;
  pss: number;
  /**
   * Anonymous pages: the heaps, stacks and malloc arenas the process wrote to, as opposed to
   * the pages of its executable and libraries. Undefined once the process exited.
   */
  anonymous: number | undefined;
};

/** Reads RSS, PSS and anonymous memory of one process from /proc/PID/smaps_rollup. */
export function readResidentMemory(pid: number): ResidentMemory {
  const rollup = readProc(`/proc/${pid}/smaps_rollup`);
  if (rollup === undefined) {
    return { rss: 0, pss: 0, anonymous: undefined };
  }

  return {
    rss: kibField(rollup, 'Rss') * 1024,
    pss: kibField(rollup, 'Pss') * 1024,
    anonymous: kibField(rollup, 'Anonymous') * 1024,
  };
}

/** Samples the memory of a process's descendants every `intervalMs`, keeping the peaks. */
export class TreeMemorySampler {
  private readonly root: number;

  private readonly timer: NodeJS.Timeout;

  /** Highest sums seen so far; each field peaks on its own. */
  private readonly peak: TreeMemory = { rss: 0, pss: 0, processes: 0 };

  constructor(root: number, intervalMs = 100) {
    this.root = root;
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling and returns the peaks. */
  stop(): TreeMemory {
    clearInterval(this.timer);
    return { ...this.peak };
  }

  private sample(): void {
    const now = descendantMemory(this.root);
    this.peak.rss = Math.max(this.peak.rss, now.rss);
    this.peak.pss = Math.max(this.peak.pss, now.pss);
    this.peak.processes = Math.max(this.peak.processes, now.processes);
  }
}

/**
 * Reads the user and system time of one process from /proc/PID/stat, in milliseconds. The
 * kernel counts them in ticks of USER_HZ (`getconf CLK_TCK`), 100 per second on x86 and arm64.
 */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  if (fields === undefined) {
    return Number.NaN;
  }

  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Fields of /proc/PID/stat after the command name, from the state on (field 3). */
function statFields(pid: number): string[] | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) {
    return undefined;
  }

  // The command name in brackets may contain spaces, so fields are counted after its `)`.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function parentOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields === undefined ? undefined : Number(fields[1]);
}

function kibField(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}
