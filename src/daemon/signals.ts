import { constants } from 'node:os';

import type { Logger } from '../logging.js';

// This module is imported by the `edge-agent` entry point before anything else of the daemon,
// so it imports nothing that takes time to load.

/**
 * The daemon's handlers of SIGTERM, SIGINT and SIGHUP. The first stop signal resolves
 * `stopRequested`, and a second one exits at once with 128 plus the signal number. A SIGHUP
 * calls `onReload`, or is remembered in `reloadRequested` while none is set.
 */
export class DaemonSignals {
  /** Resolves with the first SIGTERM or SIGINT. */
  readonly stopRequested: Promise<NodeJS.Signals>;

  /** Logger of the agent, once there is one. */
  logger: Logger | undefined;

  onReload: (() => void) | undefined;

  /** True when a SIGHUP arrived while no `onReload` was set. */
  reloadRequested = false;

  private stopping = false;

  private readonly onStopSignal: (signal: NodeJS.Signals) => void;

  private readonly hangUp = (): void => {
    if (this.onReload === undefined) {
      this.reloadRequested = true;
    } else {
      this.onReload();
    }
  };

  constructor() {
    let resolveStop: (signal: NodeJS.Signals) => void = () => undefined;
    this.stopRequested = new Promise((resolve) => {
      resolveStop = resolve;
    });
    this.onStopSignal = (signal) => {
      if (this.stopping) {
        this.logger?.warn({ signal }, 'second stop signal; exiting at once');
        process.exit(128 + (constants.signals[signal] ?? 0));
      }

      this.stopping = true;
      resolveStop(signal);
    };
    process.on('SIGTERM', this.onStopSignal);
    process.on('SIGINT', this.onStopSignal);
    process.on('SIGHUP', this.hangUp);
  }

  /** Removes the SIGHUP handler. The stop handlers stay, so a later signal still exits. */
  dispose(): void {
    process.off('SIGHUP', this.hangUp);
  }
}

/** Handlers installed by `installDaemonSignals` that no daemon has taken yet. */
let installedEarly: DaemonSignals | undefined;

/**
 * Installs the daemon's signal handlers before its modules load, which takes a few hundred
 * milliseconds. A stop signal in that time then stops the daemon once it has started, and a
 * SIGHUP reloads it then, rather than the signal's default action ending the process.
 */
export function installDaemonSignals(): void {
  installedEarly ??= new DaemonSignals();
}

/** Returns the handlers installed by `installDaemonSignals`, or installs them now. */
export function takeDaemonSignals(): DaemonSignals {
  const signals = installedEarly ?? new DaemonSignals();
  installedEarly = undefined;
  return signals;
}
