import type WebSocket from 'ws';
import type { Clock, TimerHandle } from '../clock.js';

export type HeartbeatOptions = {
  clock: Clock;
  /** Time between pings, in milliseconds. */
  intervalMs: number;
  /** Time a ping may go unanswered before the link counts as dead, in milliseconds. */
  timeoutMs: number;
  /** Called once when the deadline passes; the caller closes the socket. */
  onTimeout: () => void;
};

/**
 * Pings the peer every `intervalMs` and calls `onTimeout` when no pong, ping or message arrives
 * within `timeoutMs` of a ping. Stops by itself when the socket closes.
 */
export function startHeartbeat(socket: WebSocket, options: HeartbeatOptions): () => void {
  const { clock } = options;

  // Invariant: at most one of the two timers is set while the heartbeat runs.
  let pingTimer: TimerHandle | undefined;
  let deadlineTimer: TimerHandle | undefined;
  let stopped = false;

  const schedulePing = (): void => {
    pingTimer = clock.setTimeout(sendPing, options.intervalMs);
  };

  const sendPing = (): void => {
    pingTimer = undefined;
    if (stopped) {
      return;
    }

    socket.ping();
    deadlineTimer = clock.setTimeout(() => {
      deadlineTimer = undefined;
      stop();
      options.onTimeout();
    }, options.timeoutMs);
  };

  const onAlive = (): void => {
    if (deadlineTimer !== undefined) {
      clock.clearTimeout(deadlineTimer);
      deadlineTimer = undefined;
      schedulePing();
    }
  };

  const stop = (): void => {
    if (stopped) {
      return;
    }

    stopped = true;
    if (pingTimer !== undefined) {
      clock.clearTimeout(pingTimer);
    }

    if (deadlineTimer !== undefined) {
      clock.clearTimeout(deadlineTimer);
    }

    socket.off('pong', onAlive);
    socket.off('ping', onAlive);
    socket.off('message', onAlive);
    socket.off('close', stop);
  };

  socket.on('pong', onAlive);
  socket.on('ping', onAlive);
  socket.on('message', onAlive);
  socket.on('close', stop);
  schedulePing();

  return stop;
}
