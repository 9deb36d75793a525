import { type Clock, sleep, systemClock } from '../../clock.js';
import type { ScriptHost } from '../script/host.js';
import type { ScriptValue } from '../script/values.js';
import { executeApiCommand } from './api-view.js';
import { catalogFor, type DeviceCatalog } from './command-catalog.js';
import { runConsoleCommand } from './console-commands.js';
import { ScriptEnvironment } from './environment.js';
import { JobRunner } from './jobs.js';
import { MenuEngine } from './menu-engine.js';
import { RowReader } from './menu-rows.js';
import type { ComputeContext, SeedContext } from './menu-spec.js';
import { BOARD_KEYS, type BoardProfile, boardProfile, seededRandom } from './profiles.js';
import type { DeviceRuntime, ScriptOutcome, ScriptSource } from './runtime.js';
import { Scheduler } from './scheduler.js';
import { runScriptSource } from './script-runner.js';
import { DeviceState } from './state.js';
import {
  type ApiCommand,
  type ApiCompletion,
  DeviceTrap,
  type ExecuteOptions,
  type Origin,
  type RouterOsVersion,
  type ScriptRun,
  type SimulatedDevice,
} from './types.js';
import { isAtLeast, parseVersion } from './version.js';

export type RouterOsDeviceOptions = {
  /** RouterOS version as `/system resource` prints it: `7.18.2`, `6.49.10`, `6.43rc4`. */
  version: string;
  /** Initial `/system identity` name. Default `MikroTik`. */
  identity?: string;
  /** Hardware to report. Default: chosen by `seed`. */
  board?: 'chr' | 'rb5009';
  /** Makes generated details (CPU, MAC addresses, uptime) repeatable. Default: the identity. */
  seed?: string;
  /** Time source for uptime, the clock menu, `:delay` and streams. Default: the system clock. */
  clock?: Clock;
  /** Seconds the device has been up when created. Default: 1 to 40 days, chosen by `seed`. */
  uptimeSeconds?: number;
};

/** How many `/log` entries a device keeps, like the default memory action. */
const LOG_LIMIT = 1000;

/** RouterOS 7.15 started logging failed SSH exec scripts. */
const SSHD_FAILURE_MESSAGE = 'executing script from sshd failed, please check it manually';

/**
 * A simulated RouterOS device: configuration, scripts, jobs and logs of one router, served to
 * the API and SSH servers through `SimulatedDevice`. Menus are created on first use, and
 * menu specs and the command catalog are shared between devices of one major version.
 */
export class RouterOsDevice implements SimulatedDevice, DeviceRuntime {
  readonly version: RouterOsVersion;

  readonly profile: BoardProfile;

  readonly clock: Clock;

  readonly catalog: DeviceCatalog;

  readonly engine: MenuEngine;

  readonly rows: RowReader;

  readonly host: ScriptHost;

  readonly seedContext: SeedContext;

  /** Global script variables; cleared by a reboot. */
  readonly globals = new Map<string, ScriptValue>();

  private readonly state: DeviceState;

  private readonly environment = new ScriptEnvironment(this.globals);

  private readonly jobs: JobRunner;

  private readonly scheduler: Scheduler;

  /** Device clock time of the last boot, in milliseconds. */
  private bootMs: number;

  /** Scripts started by any origin; only grows. */
  private executionCount = 0;

  private readonly rebootHandlers: Array<() => void> = [];

  /** Callbacks of running `/log print follow` commands. */
  private readonly logListeners = new Set<(id: number) => void>();

  constructor(options: RouterOsDeviceOptions) {
    this.version = parseVersion(options.version);
    const identity = options.identity ?? 'MikroTik';
    const random = seededRandom(options.seed ?? identity);
    const board = options.board ?? BOARD_KEYS[Math.floor(random() * BOARD_KEYS.length)] ?? 'chr';
    this.profile = boardProfile(board, random);
    this.clock = options.clock ?? systemClock;
    const uptimeSeconds = options.uptimeSeconds ?? Math.floor(86_400 + random() * 39 * 86_400);
    this.bootMs = this.clock.now() - uptimeSeconds * 1000;
    this.catalog = catalogFor(this.version);
    this.seedContext = { version: this.version, profile: this.profile, identity };
    this.state = new DeviceState(this.seedContext);
    const derived = new Map([['system/script/environment', () => this.environment.items()]]);
    this.engine = new MenuEngine(
      this.catalog,
      this.state,
      () => this.computeContext(),
      derived,
      (spec) => {
        if (spec.key === 'system/scheduler') {
          this.scheduler.reschedule();
        }
      },
    );
    this.rows = new RowReader(this.engine, this.version);
    this.jobs = new JobRunner(this);
    this.scheduler = new Scheduler(this);
    this.host = this.createHost();
  }

  private createHost(): ScriptHost {
    return {
      catalog: this.catalog,
      globals: this.globals,
      runMenuCommand: (call, context) => runConsoleCommand(this, call, context),
      log: (level, message) => this.log(`script,${level}`, message),
      delay: (seconds, signal) => this.delay(seconds, signal),
      executeInBackground: (script, options) => ({
        type: 'id',
        value: this.startJob(script, {
          file: options.file,
          origin: options.origin,
          name: undefined,
        }),
      }),
      resolve: async () => {
        throw new DeviceTrap('failure: dns server failure', 4);
      },
      now: () => this.clock.now(),
    };
  }

  private delay(seconds: number, signal: AbortSignal): Promise<void> {
    if (Number.isFinite(seconds)) {
      return sleep(this.clock, seconds * 1000, signal);
    }

    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  get identity(): string {
    return this.state.singleton(this.engine.spec('system/identity')).name ?? 'MikroTik';
  }

  get executions(): number {
    return this.executionCount;
  }

  computeContext(): ComputeContext {
    const nowMs = this.clock.now();
    return {
      version: this.version,
      profile: this.profile,
      uptimeSeconds: Math.max(0, Math.floor((nowMs - this.bootMs) / 1000)),
      nowMs,
      bootMs: this.bootMs,
      scriptJobCount: this.jobs.count,
    };
  }

  execute(command: ApiCommand, options: ExecuteOptions): Promise<ApiCompletion> {
    return executeApiCommand(this, command, options);
  }

  async runScript(
    source: string,
    options: { signal: AbortSignal; origin: Origin },
  ): Promise<ScriptRun> {
    const outcome = await this.runSource({ source, block: undefined }, options);
    if (
      outcome.run.failure !== undefined &&
      options.origin === 'ssh' &&
      isAtLeast(this.version, 7, 15)
    ) {
      this.log('script,error', SSHD_FAILURE_MESSAGE);
    }

    return outcome.run;
  }

  runSource(
    script: ScriptSource,
    options: { signal: AbortSignal; origin: Origin },
  ): Promise<ScriptOutcome> {
    this.executionCount += 1;
    return runScriptSource(this, script, options);
  }

  startJob(
    script: ScriptSource,
    options: { file: string | undefined; origin: Origin; name: string | undefined },
  ): number {
    return this.jobs.start(script, options);
  }

  stopJob(id: number): void {
    this.jobs.stop(id);
  }

  onReboot(handler: () => void): void {
    this.rebootHandlers.push(handler);
  }

  reboot(): void {
    for (const handler of [...this.rebootHandlers]) {
      handler();
    }

    this.jobs.stopAll();
    this.globals.clear();
    this.environment.reset();
    this.bootMs = this.clock.now();
    this.scheduler.boot();
    this.log('system,info', 'router rebooted');
  }

  log(topics: string, message: string): void {
    const spec = this.engine.spec('log');
    const item = this.engine.insertInternal(spec, {
      time: String(this.clock.now()),
      topics,
      message,
    });
    const items = this.engine.items(spec);
    if (items.length > LOG_LIMIT) {
      const oldest = new Set(items.slice(0, items.length - LOG_LIMIT));
      this.engine.removeInternal(spec, (entry) => !oldest.has(entry));
    }

    for (const listener of this.logListeners) {
      listener(item.id);
    }
  }

  followLog(listener: (id: number) => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /** Menus created so far; an idle device has none. */
  materialisedMenus(): string[] {
    return this.state.materialisedMenus();
  }
}
