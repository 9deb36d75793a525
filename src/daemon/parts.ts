import type { Clock } from '../clock.js';
import type { SecretCache } from '../config/secret-cache.js';
import { readSecretText, verifySecrets } from '../config/secrets.js';
import type { AgentConfig } from '../config/types.js';
import type { DeviceConfig } from '../devices/types.js';
import { type ErrorCode, errorMessage, isAgentError } from '../errors.js';
import type { Runner } from '../jobs/runner.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { Logger } from '../logging.js';
import type { VerificationKey } from '../protocol/signing.js';
import type { StatusServer } from '../status/server.js';
import type { ConfigState } from '../status/view.js';
import type { Store } from '../store/store.js';
import type { UplinkClient } from '../uplink/client.js';
import { checkCaFile, checkStartupRules } from './startup-rules.js';

/** The parts of a started agent, which `stopAgentParts` takes apart in order. */
export type AgentParts = {
  config: AgentConfig;
  clock: Clock;
  logger: Logger;
  store: Store;
  runner: Runner;
  scheduler: Scheduler;
  /** The device secret files the runner reads; emptied on reload. */
  secretCache: SecretCache;
  uplink: UplinkClient;
  status: StatusServer;
  /** Stop the retention timer and the metrics' outbox subscription. */
  cleanups: Array<() => void>;
};

/** The agent's state that changes while it runs, shared with the uplink and status callbacks. */
export type AgentRuntime = {
  /** The inventory in use; replaced whole on each successful reload. */
  devices: readonly DeviceConfig[];
  configState: ConfigState;
  /** Set by `stop`; from then on offers are rejected and reloads ignored. */
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

/** The parts that exist before the services start. */
export type AgentCore = Omit<AgentParts, 'uplink' | 'status' | 'cleanups'>;

/** The secrets the agent cannot run without, read at start. */
export type StartupSecrets = {
  siteToken: string;
  statusToken: string | undefined;
  signingKey: VerificationKey;
};

/**
 * Checks the rules a loaded configuration must still meet and reads the secrets the agent
 * cannot run without. Unreadable device secrets only fail the runs on those devices, so they
 * are logged rather than fatal.
 */
export async function readStartupSecrets(
  config: AgentConfig,
  logger: Logger,
): Promise<StartupSecrets> {
  try {
    const signingKey = checkStartupRules(config);
    await checkCaFile(config);

    const siteToken = await readSecretText(config.controlPlane.tokenFile, 'controlPlane');
    const statusToken =
      config.status.tokenFile === undefined
        ? undefined
        : await readSecretText(config.status.tokenFile, 'status');

    await warnOfUnusableSecrets(config, logger);

    return { siteToken, statusToken, signingKey };
  } catch (error) {
    throw new StartupError('config', error);
  }
}

/**
 * Logs a warning when secrets the configuration names cannot be used, at start and on reload.
 * It never throws, because such a secret fails only the runs on its device.
 */
export async function warnOfUnusableSecrets(config: AgentConfig, logger: Logger): Promise<void> {
  await verifySecrets(config).catch((error: unknown) => {
    logger.warn({ err: error }, 'some device secrets cannot be used; runs on them will fail');
  });
}
