import { type Clock, systemClock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import { SecretCache } from '../config/secret-cache.js';
import type { AgentConfig } from '../config/types.js';
import { openSession } from '../devices/open-session.js';
import { errorMessage, isAgentError } from '../errors.js';
import { Runner } from '../jobs/runner.js';
import { Scheduler } from '../jobs/scheduler.js';
import type { Logger } from '../logging.js';
import { Store } from '../store/store.js';
import {
  type AgentParts,
  type AgentRuntime,
  readStartupSecrets,
  StartupError,
  warnOfUnusableSecrets,
} from './parts.js';
import { diffInventory, settingsNeedingRestart } from './reload.js';
import { startServices } from './services.js';
import { stopAgentParts } from './shutdown.js';

export { StartupError } from './parts.js';

export type AgentOptions = {
  config: AgentConfig;
  logger: Logger;
  clock?: Clock;
};

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
    const secretCache = new SecretCache({ clock });
    const runner = new Runner({
      store,
      devices: config.devices,
      openSession,
      readCredentials: secretCache.readCredentials,
      clock,
      logger,
      limits: config.runs,
    });
    const scheduler = new Scheduler({ store, runner, clock, logger });
    const core = { config, clock, logger, store, runner, scheduler, secretCache };
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

    await warnOfUnusableSecrets(next, logger);
    this.parts.secretCache.forget();
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
