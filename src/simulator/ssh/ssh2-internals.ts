import { createRequire } from 'node:module';

import type { Connection } from 'ssh2';

/**
 * The ssh2 major version whose internals the simulator's SSH hooks were written against and
 * are tested with (1.17.0). Under another major version the hooks stay off and ssh2 behaves
 * as shipped.
 */
export const SUPPORTED_SSH2_MAJOR = 1;

const require = createRequire(import.meta.url);

/** The installed ssh2 version, from its package.json. */
export const SSH2_VERSION: string = (require('ssh2/package.json') as { version: string }).version;

/** Whether the installed ssh2 has the major version the hooks were written against. */
export function ssh2InternalsSupported(version = SSH2_VERSION): boolean {
  return Number.parseInt(version, 10) === SUPPORTED_SSH2_MAJOR;
}

/**
 * Returns the protocol object (`_protocol`) of a server connection, or undefined when the
 * installed ssh2 is not the supported major version or has no such object.
 */
export function ssh2Internals(client: Connection): Record<string, unknown> | undefined {
  if (!ssh2InternalsSupported()) {
    return undefined;
  }

  const protocol = (client as unknown as { _protocol?: unknown })._protocol;
  return typeof protocol === 'object' && protocol !== null
    ? (protocol as Record<string, unknown>)
    : undefined;
}

/**
 * Calls `observe` with the current value of `target[property]` and again with every value
 * assigned to it later, which then reads back unchanged.
 */
export function observeProperty(
  target: object,
  property: string,
  observe: (value: unknown) => void,
): void {
  let current: unknown = (target as Record<string, unknown>)[property];
  observe(current);
  Object.defineProperty(target, property, {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value: unknown) => {
      current = value;
      observe(value);
    },
  });
}
