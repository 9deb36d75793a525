import type { OpenSession } from './types.js';

/**
 * Each transport's module, loaded on the first run that uses it: ssh2 alone adds about 14 MiB
 * to the resident memory of a process (a 16 MiB WebAssembly heap for Poly1305 among it), which
 * a site without SSH devices never needs.
 */
let apiTransport: Promise<typeof import('./api/session.js')> | undefined;
let sshTransport: Promise<typeof import('./ssh/session.js')> | undefined;

/**
 * Opens a logged-in session with the device's configured transport: the RouterOS API, API-SSL
 * or SSH exec. Throws an AgentError with a device code when connecting or logging in fails.
 */
export const openSession: OpenSession = async (device, context) => {
  if (device.transport === 'ssh') {
    sshTransport ??= import('./ssh/session.js');
    return (await sshTransport).openSshSession(device, context);
  }

  apiTransport ??= import('./api/session.js');
  return (await apiTransport).openApiSession(device, context);
};
