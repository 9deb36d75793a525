import type { Clock } from '../clock.js';
import { isAfterLogin } from '../devices/login-step.js';
import type {
  DeviceConfig,
  DeviceCredentials,
  DeviceSession,
  OpenSession,
  TrustStore,
} from '../devices/types.js';
import { AgentError, errorMessage, isAgentError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Store } from '../store/store.js';
import type { RunOutcome, StoredJob } from '../store/types.js';
import { outcomeFromError, outcomeFromResult } from './outcomes.js';

/** Reads a device's secrets; `SecretCache.readCredentials` in the daemon. */
export type ReadCredentials = (device: DeviceConfig) => Promise<DeviceCredentials>;

/** Everything one run needs besides the job and the device. */
export type RunEnvironment = {
  store: Store;
  openSession: OpenSession;
  readCredentials: ReadCredentials;
  trust: TrustStore;
  clock: Clock;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  outputCapBytes: number;
};

/** One run in progress: the job, the device, the abort signal and the run's deadline. */
export type RunAttempt = {
  job: StoredJob;
  device: DeviceConfig;
  signal: AbortSignal;
  /** Milliseconds since the epoch by which the whole run must end. */
  deadlineAt: number;
  logger: Logger;
  /** Called just before the script is handed to the device session. */
  onScriptSent: () => void;
};

/**
 * Connects to the device, takes the backup when the job sets `makeBackup`, runs the script and
 * returns the outcome. Never throws: every failure becomes a failed outcome with its code.
 */
export async function executeRun(
  attempt: RunAttempt,
  environment: RunEnvironment,
): Promise<RunOutcome> {
  const { clock } = environment;
  let session: DeviceSession | undefined;

  try {
    const credentials = await environment.readCredentials(attempt.device);
    session = await environment.openSession(attempt.device, {
      credentials,
      trust: environment.trust,
      logger: attempt.logger,
      clock,
      connectTimeoutMs: Math.min(environment.connectTimeoutMs, remainingMs(attempt, clock)),
      commandTimeoutMs: environment.commandTimeoutMs,
      signal: attempt.signal,
    });
    recordLogin(session, attempt, environment);

    if (attempt.job.makeBackup) {
      const failure = await takeBackup(session, attempt, environment);
      if (failure !== undefined) {
        return failure;
      }
    }

    attempt.logger.debug({ script: attempt.job.script }, 'script sent');
    attempt.onScriptSent();
    const result = await session.run(attempt.job.script, {
      timeoutMs: remainingMs(attempt, clock),
      signal: attempt.signal,
    });
    return outcomeFromResult(result, environment.outputCapBytes, clock.now());
  } catch (error) {
    if (session === undefined && isAgentError(error) && isAfterLogin(error)) {
      recordLogin(undefined, attempt, environment);
    }

    return outcomeFromError(error, clock.now());
  } finally {
    await closeQuietly(session, attempt.logger);
  }
}

/**
 * Captures `/export` and stores it before the script runs. Returns a failed outcome when the
 * backup could not be taken or stored, in which case the script must not run.
 */
async function takeBackup(
  session: DeviceSession,
  attempt: RunAttempt,
  environment: RunEnvironment,
): Promise<RunOutcome | undefined> {
  const { clock, store } = environment;

  try {
    const config = await session.exportConfig({
      timeoutMs: remainingMs(attempt, clock),
      signal: attempt.signal,
    });
    store.backups.save({
      jobId: attempt.job.id,
      deviceId: attempt.device.id,
      capturedAt: clock.now(),
      config,
    });
    attempt.logger.info({ bytes: Buffer.byteLength(config) }, 'backup stored');
    return undefined;
  } catch (error) {
    if (attempt.signal.aborted) {
      throw error;
    }

    const cause = isAgentError(error) ? `${error.code}: ${error.message}` : errorMessage(error);
    const failure = new AgentError(
      'BACKUP_FAILED',
      `the backup before the script failed, so the script was not run (${cause})`,
      { cause: error },
    );
    attempt.logger.warn({ err: failure }, 'backup failed');
    return outcomeFromError(failure, clock.now());
  }
}

/**
 * Queues a record of the device's login for the store's next shared commit without waiting for
 * it: with the facts when the session has them, otherwise only its time, such as for a device
 * that hangs on the facts read, so it still counts as reached. The record is informational, so
 * neither its write time nor a full disk may hold up or fail the run.
 */
function recordLogin(
  session: DeviceSession | undefined,
  attempt: RunAttempt,
  environment: RunEnvironment,
): void {
  const { store, clock } = environment;
  const deviceId = attempt.device.id;
  const seenAt = clock.now();
  store.groupCommit
    .write(`recording the login to device ${deviceId}`, () => {
      if (session === undefined) {
        store.devices.recordLogin(deviceId, seenAt);
      } else {
        store.devices.recordFacts(deviceId, session.facts, seenAt);
      }
    })
    .catch((error: unknown) => {
      attempt.logger.warn({ err: error }, 'device login not stored');
    });
}

async function closeQuietly(session: DeviceSession | undefined, logger: Logger): Promise<void> {
  try {
    await session?.close();
  } catch (error) {
    logger.warn({ err: error }, 'closing the device session failed');
  }
}

/** Time left until the run's deadline, at least 1 ms so transports still apply a timeout. */
function remainingMs(attempt: RunAttempt, clock: Clock): number {
  return Math.max(1, attempt.deadlineAt - clock.now());
}
