import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { projectRoot } from '../daemon/version.js';
import { errorMessage } from '../errors.js';
import { ChildProcesses } from './children.js';
import { DEMO_DEVICES } from './fleet.js';
import { Printer } from './report.js';
import { type ScriptProgress, ScriptsApi, type SiteDetail, watchProgress } from './scenario.js';
import { type Stack, startStack, statusRequest } from './stack.js';

/** The script the demo pushes, relative to the project root. */
export const DEMO_SCRIPT = 'config/examples/branch-baseline.rsc';

/** Time the script gets to finish on every device, in milliseconds. */
const RUN_TIMEOUT_MS = 20_000;

/** Exit code after Ctrl-C: 128 plus SIGINT's number, as shells report it. */
export const INTERRUPTED_EXIT = 130;

/** Lines of each program's output shown when the demo fails. */
const TAIL_LINES = 15;

export type DemoOptions = {
  /** Keep the temporary directory (configurations, databases, logs) instead of removing it. */
  keep: boolean;
  /** Aborts the demo, as on Ctrl-C. */
  signal: AbortSignal;
};

/**
 * Runs the demo: starts the control plane, the simulated site and the agent as child
 * processes, pushes the baseline script through the Scripts API, shows its progress and
 * results, and stops everything. Returns 0 when every device ended as the demo expects.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const printer = new Printer(process.stdout, process.env);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edge-agent-demo-'));
  const children = new ChildProcesses();
  let exitCode = 1;

  try {
    exitCode = await raceAbort(demoSteps(dir, children, printer), options.signal);
  } catch (error) {
    printer.line();
    if (options.signal.aborted) {
      exitCode = INTERRUPTED_EXIT;
      printer.line(printer.paint('Demo interrupted.', 'yellow'));
    } else {
      printer.line(printer.paint(`Demo failed: ${errorMessage(error)}`, 'red'));
      printTails(printer, children);
    }
  } finally {
    printer.step('stopping the agent, the simulator and the control plane');
    await children.stopAll();
    const agentExit = children.exitCode('agent');
    printer.step(`agent exited with code ${agentExit ?? 'none (signal)'}`);
    if (agentExit !== 0 && exitCode === 0) {
      exitCode = 1;
    }

    if (options.keep) {
      printer.line(`Files kept in ${dir}`);
    } else {
      await rm(dir, { recursive: true, force: true });
    }
  }

  printer.line(`Demo finished in ${printer.elapsed()} with exit code ${exitCode}.`);
  return exitCode;
}

async function demoSteps(dir: string, children: ChildProcesses, printer: Printer): Promise<number> {
  printer.step('starting edge-control-plane, routeros-sim and edge-agent on 127.0.0.1');
  const stack = await startStack(dir, children);
  printer.step(`control plane at ${stack.apiUrl}, agent status at ${stack.statusUrl}`);
  printer.step(`agent connected for site ${stack.siteId} with ${DEMO_DEVICES.length} devices`);

  const root = projectRoot() ?? process.cwd();
  const script = await readFile(path.join(root, DEMO_SCRIPT), 'utf8');
  const api = new ScriptsApi(stack);
  const scriptId = await api.launchScript('Branch baseline: DNS, NTP, management access', script);
  printer.step(`script ${scriptId} created, authorized and launched (${DEMO_SCRIPT})`);

  const { progress, detail } = await watchProgress(api, scriptId, RUN_TIMEOUT_MS, (change) =>
    printer.change(change),
  );

  printer.progress(`Final progress: GET /scripts/scheduled/${scriptId}/progress`, progress);
  printer.line();
  printer.line(
    printer.paint(
      `Device results: GET /scripts/scheduled/${scriptId}/sites/${stack.siteId}`,
      'bold',
    ),
  );
  for (const result of detail.devices) {
    printer.device(
      result,
      DEMO_DEVICES.find((device) => device.id === result.device_id),
    );
  }

  await printAgentView(printer, stack, scriptId);
  return reportOutcome(printer, stack.siteId, progress, detail);
}

async function printAgentView(printer: Printer, stack: Stack, scriptId: string): Promise<void> {
  const status = (await statusRequest(stack, '/status')) as {
    uplink: { state: string };
    queueDepth: number;
    runningRuns: number;
    outboxDepth: number;
  };
  const local = (await statusRequest(
    stack,
    `/scripts/scheduled/${scriptId}/progress`,
  )) as ScriptProgress;

  printer.line();
  printer.line(printer.paint(`The agent's own view: ${stack.statusUrl}/status`, 'bold'));
  printer.line(
    `  uplink ${status.uplink.state}, queued runs ${status.queueDepth}, running runs ${status.runningRuns}, unsent events ${status.outboxDepth}`,
  );
  printer.line(`  local progress: ${JSON.stringify(local)}`);
}

/** Compares every device and the site verdict with what the demo expects. */
function reportOutcome(
  printer: Printer,
  siteId: string,
  progress: ScriptProgress,
  detail: SiteDetail,
): number {
  const problems: string[] = [];

  for (const device of DEMO_DEVICES) {
    const result = detail.devices.find((entry) => entry.device_id === device.id);
    const code = result?.error_code ?? undefined;
    if (result?.state !== device.expected.state || code !== device.expected.code) {
      const found = result === undefined ? 'no result' : `${result.state} ${code ?? ''}`.trim();
      const expected = `${device.expected.state} ${device.expected.code ?? ''}`.trim();
      problems.push(`${device.id}: expected ${expected}, found ${found}`);
    }
  }

  // Two devices fail by design, so the site's verdict is failed.
  if (progress.failed.length !== 1 || progress.failed[0] !== siteId) {
    problems.push(`site ${siteId}: expected in failed, found ${JSON.stringify(progress)}`);
  }

  printer.line();
  if (problems.length > 0) {
    printer.line(printer.paint('Outcome differs from the expected one:', 'red'));
    for (const problem of problems) {
      printer.line(`  ${problem}`);
    }

    return 1;
  }

  const failing = DEMO_DEVICES.filter((device) => device.expected.state !== 'succeeded');
  const succeeded = DEMO_DEVICES.length - failing.length;
  const failures = failing.map((device) => `${device.id} failed with ${device.expected.code}`);
  printer.line(
    printer.paint(
      `Outcome as expected: ${succeeded} devices succeeded; ${failures.join('; ')}.`,
      'green',
    ),
  );
  return 0;
}

function printTails(printer: Printer, children: ChildProcesses): void {
  const names = [...new Set(children.lines.map((line) => line.name))];
  for (const name of names) {
    const lines = children.lines.filter((line) => line.name === name).slice(-TAIL_LINES);
    printer.line(printer.paint(`Last output of ${name}:`, 'bold'));
    for (const line of lines) {
      printer.line(`  ${line.text}`);
    }
  }
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new Error('interrupted'));
    if (signal.aborted) {
      onAbort();
      return;
    }

    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
