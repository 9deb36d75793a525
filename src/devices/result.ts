import { AgentError, errorMessage } from '../errors.js';
import { classifyOutput } from './classify.js';
import type { RunError, ScriptResult } from './types.js';

/** When a run started and ended, in milliseconds since the epoch. */
export type RunTimes = { startedAt: number; finishedAt: number };

/** Builds the result of a run from its output: failed when the last line is a device error. */
export function resultFromOutput(
  output: string,
  times: RunTimes,
  outputCaptured = true,
): ScriptResult {
  const error = classifyOutput(output);
  if (error !== undefined) {
    return { status: 'failed', output, outputCaptured, ...times, error };
  }

  return { status: 'succeeded', output, outputCaptured, ...times };
}

/** Builds a failed result. */
export function failedResult(
  error: RunError,
  times: RunTimes,
  output = '',
  outputCaptured = true,
): ScriptResult {
  return { status: 'failed', output, outputCaptured, ...times, error };
}

/**
 * Converts what a run threw into a RunError. AgentErrors keep their code and the position of an
 * ENCODING_ERROR; anything else is a defect of this program and becomes INTERNAL.
 */
export function toRunError(error: unknown): RunError {
  if (!(error instanceof AgentError)) {
    return { code: 'INTERNAL', message: `the run failed unexpectedly: ${errorMessage(error)}` };
  }

  const runError: RunError = { code: error.code, message: error.message };
  const { line, column } = error.details;
  if (typeof line === 'number' && typeof column === 'number') {
    runError.line = line;
    runError.column = column;
  }

  return runError;
}
