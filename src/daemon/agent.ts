import { type Clock, systemClock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import { readDeviceCredentials, readSecretText, verifySecrets } from '../config/secrets.js';
import type { AgentConfig } from '../config/types.js';
import { openSession as defaultOpenSession } from '../devices/open-session.js';
import type { DeviceConfig, OpenSession } from '../devices/types.js';
import { AgentError, type ErrorCode, errorMessage, isAgentError } from '../errors.js';
import { Runner } from '../jobs/runner.js';
import { Scheduler } from '../jobs/scheduler.js';
import type { Logger } from '../logging.js';
import { PROTOCOL_VERSION } from '../protocol/limits.js';
import type { InventoryDevice } from '../protocol/messages.js';
import type { VerificationKey } from '../protocol/signing.js';
import { AgentMetrics, countRunsFromOutbox } from '../status/metrics.js';
import { StatusServer } from '../status/server.js';
import type { ConfigState, StatusSource } from '../status/view.js';
import { startRetentionTimer } from '../store/retention-timer.js';
import { StatusQueries } from '../store/status-queries.js';
import { Store } from '../store/store.js';
import { UplinkClient } from '../uplink/client.js';
import type { UplinkStatus } from '../uplink/types.js';
import { diffInventory, settingsNeedingRestart } from './reload.js';
import { stopAgentParts } from './shutdown.js';
import { checkStartupRules } from './startup-rules.js';
import { agentVersion } from './version.js';

export type AgentOptions = {
  config: AgentConfig;
  logger: Logger;
  clock?: Clock;
  /** Opens device sessions; the real transports unless a test replaces them. */
  openSession?: OpenSession;
};

/** The parts of a started agent, which `stopAgentParts` takes apart in order. */
export type AgentParts = {
  config: AgentConfig;
  clock: Clock;
  logger: Logger;
  store: Store;
  runner: Runner;
  scheduler: Scheduler;
  uplink: UplinkClient;
  status: StatusServer;
  /** Stop the retention timer and the metrics' outbox subscription. */
  cleanups: Array<() => void>;
};

/** The agent's state that changes while it runs, shared with the uplink and status callbacks. */
type AgentRuntime = {
  /** The inventory in use; replaced whole on each successful reload. */
  devices: readonly DeviceConfig[];
  configState: ConfigState;
  /** Set by `stop`; from then on offers are refused and reloads ignored. */
  stopping: Promise<void> | undefined;
};

/**
 * The startup step that failed: `config` for the file, its secrets and its rules (exit code 2,
 * because only an edit fixes it), `resources` for the store, the status port and the uplink.
 */
export type StartupPhase = 'config' | 'resources';

/** An error raised while the agent was starting, with the step that failed. */
export class StartupError extends Error {
  readonly phase: StartupPhase;

  readonly code: ErrorCode;

  constructor(phase: StartupPhase, error: unknown) {
    super(errorMessage(error), { cause: error });
    this.name = 'StartupError';
    this.phase = phase;
    this.code = isAgentError(error) ? error.code : 'INTERNAL';
  }
}

/**
 * The edge agent: the composition root that wires the store, the scheduler and runner, the
 * uplink and the status endpoint, and that stops them in order.
 */
export class Agent {
  private readonly parts: AgentParts;

  private readonly runtime: AgentRuntime;

  /** Reloads run one at a time, in signal order. */
  private reloads: Promise<void> = Promise.resolve();

  private constructor(parts: AgentParts, runtime: AgentRuntime) {
    this.parts = parts;
    this.runtime = runtime;
  }

  /**
   * Starts every part. Throws a StartupError whose phase separates a configuration problem from
   * an unusable store or port, after stopping whatever had started.
   */
  static async start(options: AgentOptions): Promise<Agent> {
    const { config, logger } = options;
    const clock = options.clock ?? systemClock;
    const secrets = await readStartupSecrets(config, logger);

    let store: Store;
    try {
      store = Store.open(config.store.path, { clock });
    } catch (error) {
      throw new StartupError('resources', error);
    }

    const runtime: AgentRuntime = {
      devices: config.devices,
      configState: { file: config.sourceFile, loadedAt: clock.now() },
      stopping: undefined,
    };
    const runner = new Runner({
      store,
      devices: config.devices,
      openSession: options.openSession ?? defaultOpenSession,
      readCredentials: readDeviceCredentials,
      clock,
      logger,
      limits: config.runs,
    });
    const scheduler = new Scheduler({ store, runner, clock, logger });
    const core = { config, clock, logger, store, runner, scheduler };
    const closers: Array<() => unknown> = [() => store.close(), () => scheduler.stop()];

    try {
      const parts = await startServices(core, runtime, secrets, closers);
      return new Agent(parts, runtime);
    } catch (error) {
      for (const close of closers.reverse()) {
        await Promise.resolve()
          .then(close)
          .catch((failure: unknown) => {
            logger.warn({ err: failure }, 'cleanup after a failed start failed');
          });
      }

      throw new StartupError('resources', error);
    }
  }

  /** Base URL of the status endpoint, with the port actually bound. */
  get statusUrl(): string {
    return this.parts.status.url;
  }

  /**
   * Stops within the drain time plus a few seconds: refuses new offers, lets running scripts
   * finish until `runs.shutdownDrainMs`, marks the rest `interrupted`, sends what the link
   * takes, and closes the store. Calling it again returns the same promise.
   */
  stop(reason: string): Promise<void> {
    this.runtime.stopping ??= stopAgentParts(this.parts, reason);
    return this.runtime.stopping;
  }

  /**
   * Reloads the device inventory from the configuration file. An invalid file is logged and the
   * inventory in use is kept. Running runs keep their device settings. Other settings changed
   * in the file are logged and take effect at the next start.
   */
  reload(): Promise<void> {
    this.reloads = this.reloads.then(() => this.reloadNow());
    return this.reloads;
  }

  private async reloadNow(): Promise<void> {
    const { config, clock, runner } = this.parts;
    const logger = this.parts.logger.child({ component: 'reload' });
    if (this.runtime.stopping !== undefined) {
      return;
    }

    let next: AgentConfig;
    try {
      next = await loadConfig(config.sourceFile);
    } catch (error) {
      const code = isAgentError(error) ? error.code : 'INTERNAL';
      this.runtime.configState = {
        ...this.runtime.configState,
        reloadError: { code, message: errorMessage(error), at: clock.now() },
      };
      logger.error({ err: error, file: config.sourceFile }, 'reload failed; inventory unchanged');
      return;
    }

    const change = diffInventory(this.runtime.devices, next.devices);
    this.runtime.devices = next.devices;
    runner.setInventory(next.devices);
    this.runtime.configState = { file: config.sourceFile, loadedAt: clock.now() };
    logger.info({ ...change, devices: next.devices.length }, 'inventory reloaded');

    const ignored = settingsNeedingRestart(config, next);
    if (ignored.length > 0) {
      logger.warn({ settings: ignored }, 'changed settings take effect after a restart');
    }
  }
}

type AgentCore = Omit<AgentParts, 'uplink' | 'status' | 'cleanups'>;

/**
 * Starts the scheduler, the status endpoint, the uplink and the retention timer, pushing a
 * closer for each onto `closers` as it goes so that a failure can undo the steps before it.
 */
async function startServices(
  core: AgentCore,
  runtime: AgentRuntime,
  secrets: StartupSecrets,
  closers: Array<() => unknown>,
): Promise<AgentParts> {
  const { config, clock, logger, store, scheduler, runner } = core;
  const recovery = scheduler.start();

  let uplink: UplinkClient | undefined;
  const source: StatusSource = {
    siteId: config.siteId,
    version: agentVersion(),
    startedAt: clock.now(),
    clock,
    store,
    queries: new StatusQueries(store),
    devices: () => runtime.devices,
    uplink: () => uplink?.getStatus() ?? { ...IDLE_UPLINK },
    runningRuns: () => runner.runningCount,
    configState: () => runtime.configState,
  };
  const metrics = new AgentMetrics(source);
  const cleanups = [countRunsFromOutbox(source, metrics, logger)];
  closers.push(...cleanups);

  uplink = new UplinkClient({
    ...uplinkSettings(config, secrets),
    agentVersion: agentVersion(),
    devices: () => helloDevices(runtime.devices, store),
    intake: async (job) => {
      if (runtime.stopping !== undefined) {
        throw new AgentError(
          'AGENT_STOPPING',
          `the agent is stopping, so job ${job.id} was not stored; the control plane offers it again after the restart`,
        );
      }

      scheduler.accept(job);
    },
    cancel: async (jobId) => {
      scheduler.cancel(jobId);
    },
    outbox: store.outbox,
    outboxId: store.outbox.id,
    observer: metrics.uplinkObserver,
    clock,
    logger,
  });
  const status = await StatusServer.start({
    ...config.status.listen,
    ...(secrets.statusToken === undefined ? {} : { token: secrets.statusToken }),
    source,
    metrics,
    logger,
  });
  closers.push(() => status.close());

  const started = uplink;
  closers.push(() => started.stop());
  await started.start();
  cleanups.push(startRetentionTimer({ store, policy: config.store.retention, clock, logger }));

  logger.info(
    {
      version: agentVersion(),
      nodeVersion: process.version,
      protocol: PROTOCOL_VERSION,
      siteId: config.siteId,
      agentId: store.outbox.id,
      devices: config.devices.length,
      ...recovery,
      outboxDepth: store.outbox.depth(),
      statusUrl: status.url,
      controlPlaneUrl: config.controlPlane.url,
    },
    'agent started',
  );
  return { ...core, uplink: started, status, cleanups };
}

/** The uplink's state before it is created. */
const IDLE_UPLINK: UplinkStatus = {
  state: 'idle',
  failedAttempts: 0,
  unacknowledged: 0,
  acknowledgedSeq: 0,
};

/** Returns the uplink options that come straight from the configuration and the secrets. */
function uplinkSettings(config: AgentConfig, secrets: StartupSecrets) {
  const { controlPlane } = config;
  return {
    url: controlPlane.url,
    token: secrets.siteToken,
    siteId: config.siteId,
    keys: [secrets.signingKey],
    allowInsecure: controlPlane.allowInsecure,
    ...(controlPlane.caFile === undefined ? {} : { caFile: controlPlane.caFile }),
    ...(controlPlane.fingerprint === undefined ? {} : { fingerprint: controlPlane.fingerprint }),
  };
}

/** Returns the inventory as `hello` lists it, with the RouterOS version of each device's last login. */
function helloDevices(devices: readonly DeviceConfig[], store: Store): InventoryDevice[] {
  return devices.map((device) => {
    const facts = store.devices.facts(device.id);
    const entry: InventoryDevice = {
      id: device.id,
      name: device.name,
      transport: device.transport,
    };
    if (facts !== undefined) {
      entry.routerosVersion = facts.version.slice(0, 64);
    }

    return entry;
  });
}

type StartupSecrets = {
  siteToken: string;
  statusToken: string | undefined;
  signingKey: VerificationKey;
};

/**
 * Checks the rules a loaded configuration must still meet and reads the secrets the agent
 * cannot run without. Unreadable device secrets only fail the runs on those devices, so they
 * are logged rather than fatal.
 */
async function readStartupSecrets(config: AgentConfig, logger: Logger): Promise<StartupSecrets> {
  try {
    const signingKey = checkStartupRules(config);
    const siteToken = await readSecretText(config.controlPlane.tokenFile, 'controlPlane');
    const statusToken =
      config.status.tokenFile === undefined
        ? undefined
        : await readSecretText(config.status.tokenFile, 'status');

    await verifySecrets(config).catch((error: unknown) => {
      logger.warn({ err: error }, 'some device secrets cannot be used; runs on them will fail');
    });

    return { siteToken, statusToken, signingKey };
  } catch (error) {
    throw new StartupError('config', error);
  }
}
