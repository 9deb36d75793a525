import type { ScriptResult } from '../devices/types.js';
import { type ErrorCode, errorMessage, isAgentError } from '../errors.js';
import type { RunOutcome } from '../store/types.js';
import { capOutput } from './output-cap.js';

/** Why the runner aborted a run: its time limit, a cancellation or the agent stopping. */
export type AbortReason = 'timeout' | 'cancel' | 'shutdown';

/**
 * Messages, by abort reason, for a run aborted before its script was sent: while connecting,
 * logging in, reading the device facts or taking the backup.
 */
const BEFORE_SCRIPT_MESSAGES: Readonly<Record<AbortReason, string>> = {
  timeout: 'the run exceeded its time limit before the script was sent; the script did not run',
  cancel: 'the job was cancelled before the script was sent; the script did not run',
  shutdown: 'the agent stopped before the script was sent; the script did not run',
};

/** The final state and reason each abort reason gives a run that had not finished by itself. */
const ABORT_OUTCOMES: Readonly<Record<AbortReason, Omit<RunOutcome, 'finishedAt'>>> = {
  timeout: {
    state: 'timed_out',
    reasonCode: 'TIMEOUT',
    reasonMessage: 'the run exceeded its time limit and was stopped',
  },
  cancel: {
    state: 'cancelled',
    reasonCode: 'CANCELLED',
    reasonMessage: 'the job was cancelled while the script was running',
  },
  shutdown: {
    state: 'interrupted',
    reasonCode: 'INTERRUPTED',
    reasonMessage:
      'the agent stopped while the script was running; check the device, because the script may have run in part',
  },
};

/** Maps a device error code to a run's final state. */
function stateForCode(code: ErrorCode): RunOutcome['state'] {
  if (code === 'TIMEOUT') {
    return 'timed_out';
  }

  if (code === 'CANCELLED') {
    return 'cancelled';
  }

  return 'failed';
}

/** Turns a transport's result into a run outcome with the output capped at `capBytes`. */
export function outcomeFromResult(
  result: ScriptResult,
  capBytes: number,
  finishedAt: number,
): RunOutcome {
  const capped = capOutput(result.output, capBytes);
  const outcome: RunOutcome = {
    state: 'succeeded',
    output: capped.text,
    outputTruncated: capped.truncated,
    outputBytes: capped.totalBytes,
    outputCaptured: result.outputCaptured,
    finishedAt,
  };

  if (result.status === 'succeeded') {
    return outcome;
  }

  const error = result.error ?? {
    code: 'SCRIPT_FAILED',
    message: 'the device reported a failure without details',
  };
  outcome.state = stateForCode(error.code);
  outcome.reasonCode = error.code;
  outcome.reasonMessage = error.message;
  if (error.line !== undefined) {
    outcome.errorLine = error.line;
  }

  if (error.column !== undefined) {
    outcome.errorColumn = error.column;
  }

  return outcome;
}

/** Turns an error thrown while connecting, logging in or running into a run outcome. */
export function outcomeFromError(error: unknown, finishedAt: number): RunOutcome {
  const code: ErrorCode = isAgentError(error) ? error.code : 'INTERNAL';
  return {
    state: stateForCode(code),
    reasonCode: code,
    reasonMessage: errorMessage(error),
    finishedAt,
  };
}

/**
 * Returns the outcome of a run the runner aborted before it finished by itself. `scriptSent`
 * is true once the script may have started on the device.
 */
export function outcomeFromAbort(
  reason: AbortReason,
  scriptSent: boolean,
  finishedAt: number,
): RunOutcome {
  const outcome = { ...ABORT_OUTCOMES[reason], finishedAt };
  if (!scriptSent) {
    outcome.reasonMessage = BEFORE_SCRIPT_MESSAGES[reason];
  }

  return outcome;
}

/**
 * Settles what a run produced against why it was aborted, if it was. A script that succeeded
 * keeps its success, because it ran to the end. Any other result of an aborted run takes the
 * abort's state: a timeout is `timed_out` even when the transport reported the broken connection.
 */
export function settleOutcome(
  outcome: RunOutcome,
  abortReason: AbortReason | undefined,
  scriptSent: boolean,
): RunOutcome {
  if (abortReason === undefined || outcome.state === 'succeeded') {
    return outcome;
  }

  const aborted = outcomeFromAbort(abortReason, scriptSent, outcome.finishedAt);
  return { ...outcome, ...aborted };
}
