import { openApiSession } from './api/session.js';
import { openSshSession } from './ssh/session.js';
import type { OpenSession } from './types.js';

/**
 * Opens a logged-in session with the device's configured transport: the RouterOS API, API-SSL
 * or SSH exec. Throws an AgentError with a device code when connecting or logging in fails.
 */
export const openSession: OpenSession = (device, context) => {
  if (device.transport === 'ssh') {
    return openSshSession(device, context);
  }

  return openApiSession(device, context);
};
