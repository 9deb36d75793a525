import { AgentError } from '../errors.js';

/**
 * Marks an error of a step after a successful login, such as reading the device facts, with
 * `details.loggedIn`, so that a caller can tell a device that accepted the login
 * from one it never reached. Any other thrown value is returned unchanged.
 */
export function failedAfterLogin(error: unknown): unknown {
  if (!(error instanceof AgentError)) {
    return error;
  }

  return new AgentError(error.code, error.message, {
    cause: error,
    details: { ...error.details, loggedIn: true },
  });
}

/** Reports whether `error` comes from a step after the login succeeded. */
export function isAfterLogin(error: AgentError): boolean {
  return error.details.loggedIn === true;
}
