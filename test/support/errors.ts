import { AgentError, type ErrorCode } from '../../src/errors.js';

/** Runs `body` and returns the code of the AgentError it throws; fails when it throws none. */
export function thrownCode(body: () => unknown): ErrorCode {
  try {
    body();
  } catch (error) {
    if (error instanceof AgentError) {
      return error.code;
    }

    throw error;
  }

  throw new Error('expected an AgentError, but nothing was thrown');
}

/** Awaits `promise` and returns the AgentError it rejects with; fails when it resolves. */
export async function rejectedError(promise: Promise<unknown>): Promise<AgentError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AgentError) {
      return error;
    }

    throw error;
  }

  throw new Error('expected an AgentError, but the promise resolved');
}
