import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { DeviceConfig } from '../../src/devices/types.js';
import { BENCH_SCRIPT } from './bench-script.js';
import { nodeArguments } from './child-module.js';
import type { FanoutPlan, FanoutResult } from './fanout-agent.js';
import { runTimed, type TimedRun } from './timed-command.js';

export type AgentRunOptions = {
  /** Directory for the inventory, store, log and result files; the store is kept across calls. */
  directory: string;
  inventory: readonly DeviceConfig[];
  concurrency: number;
  repetitions: number;
};

/** The agent's own report and what `/usr/bin/time` saw of its process. */
export type AgentRun = { result: FanoutResult; process: TimedRun };

/**
 * Runs the benchmark script on every device of `inventory` in a fresh agent process
 * (`fanout-agent.ts`), `repetitions` times, and returns both measurements. The store file in
 * `directory` is reused, so pins made by an earlier call are found again, as in a daemon.
 */
export async function runAgent(options: AgentRunOptions): Promise<AgentRun> {
  const inventoryFile = path.join(options.directory, 'agent-inventory.json');
  writeFileSync(inventoryFile, JSON.stringify(options.inventory));
  const plan: FanoutPlan = {
    inventoryFile,
    storeFile: path.join(options.directory, 'agent.db'),
    logFile: path.join(options.directory, 'agent.log'),
    resultFile: path.join(options.directory, 'agent-result.json'),
    script: BENCH_SCRIPT,
    concurrency: options.concurrency,
    repetitions: options.repetitions,
  };

  const process = await runTimed(
    globalThis.process.execPath,
    nodeArguments('bench/support/fanout-agent', [JSON.stringify(plan)]),
  );
  if (process.exitCode !== 0) {
    throw new Error(`the agent process exited with code ${process.exitCode}: ${process.stderr}`);
  }

  const result = JSON.parse(readFileSync(plan.resultFile, 'utf8')) as FanoutResult;
  return { result, process };
}
