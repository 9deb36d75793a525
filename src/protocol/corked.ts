import type WebSocket from 'ws';

/** The part of `ws`'s private `_socket` (the TCP or TLS socket) that `sendCorked` uses. */
type CorkableSocket = { cork(): void; uncork(): void };

/**
 * Runs `send` with the WebSocket's underlying socket corked, so that the frames it sends leave
 * in one write instead of one system call each: a burst of status events or acknowledgements
 * cost about 10 microseconds per frame in writes alone. `ws` has no public way to batch
 * frames, so this reaches its `_socket`; without one `send` simply runs uncorked.
 */
export function sendCorked(socket: WebSocket, send: () => void): void {
  const raw = (socket as unknown as { _socket?: CorkableSocket | null })._socket ?? undefined;
  raw?.cork();
  try {
    send();
  } finally {
    raw?.uncork();
  }
}
