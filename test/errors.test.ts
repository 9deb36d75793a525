import { describe, expect, it } from 'vitest';

import { AgentError, ERROR_CODES, isAgentError, isErrorCode, toAgentError } from '../src/errors.js';

describe('AgentError', () => {
  it('keeps code, cause and details', () => {
    const cause = new Error('socket closed');
    const error = new AgentError('CONNECTION_LOST', 'device r1 closed the connection', {
      cause,
      details: { deviceId: 'r1' },
    });

    expect(error.code).toBe('CONNECTION_LOST');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ deviceId: 'r1' });
    expect(isAgentError(error, 'CONNECTION_LOST')).toBe(true);
    expect(isAgentError(error, 'TIMEOUT')).toBe(false);
  });

  it('serializes without empty details', () => {
    const error = new AgentError('TIMEOUT', 'timed out');

    expect(JSON.parse(JSON.stringify(error))).toEqual({ code: 'TIMEOUT', message: 'timed out' });
  });

  it('wraps foreign errors once', () => {
    const ours = new AgentError('AUTH_FAILED', 'login rejected');
    const wrapped = toAgentError(new TypeError('bad'), 'INTERNAL', 'unexpected failure');

    expect(toAgentError(ours, 'INTERNAL', 'ignored')).toBe(ours);
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });

  it('recognizes only listed codes', () => {
    expect(ERROR_CODES.every((code) => isErrorCode(code))).toBe(true);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(isErrorCode('NOT_A_CODE')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});
