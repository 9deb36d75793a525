import type { Socket } from 'node:net';

import type { AgentError } from '../../errors.js';

/**
 * Per-socket state shared by the node-routeros fixes and the API connection: why the connection
 * ended, and who hears about replies that no command was waiting for.
 */
type SocketState = {
  /** The first reason the connection failed; later reasons are consequences of it. */
  failure?: AgentError;
  onDroppedReply?: (reply: string, tag: string | undefined) => void;
};

const states = new WeakMap<Socket, SocketState>();

function stateOf(socket: Socket): SocketState {
  let state = states.get(socket);
  if (state === undefined) {
    state = {};
    states.set(socket, state);
  }

  return state;
}

/** Records why the connection failed, unless a reason is already recorded, and destroys it. */
export function failConnection(socket: Socket, error: AgentError): void {
  const state = stateOf(socket);
  state.failure ??= error;
  socket.destroy();
}

/** Returns the recorded reason the connection failed, if any. */
export function connectionFailure(socket: Socket): AgentError | undefined {
  return states.get(socket)?.failure;
}

/** Registers the listener for replies that arrive for no registered command. */
export function setDroppedReplyListener(
  socket: Socket,
  listener: (reply: string, tag: string | undefined) => void,
): void {
  stateOf(socket).onDroppedReply = listener;
}

/** Reports a reply that arrived for no registered command. */
export function reportDroppedReply(socket: Socket, reply: string, tag: string | undefined): void {
  states.get(socket)?.onDroppedReply?.(reply, tag);
}
