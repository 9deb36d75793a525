import { systemClock } from '../../src/clock.js';
import type { ApiConnectOptions } from '../../src/devices/api/connection.js';
import { createSilentLogger } from '../../src/logging.js';
import { TEST_PASSWORD, TEST_USER } from './api-service.js';

/** Options for ApiConnection.open against a simulated API service on 127.0.0.1. */
export function apiConnectOptions(
  port: number,
  overrides: Partial<ApiConnectOptions> = {},
): ApiConnectOptions {
  return {
    deviceId: 'r1',
    host: '127.0.0.1',
    port,
    username: TEST_USER,
    password: TEST_PASSWORD,
    clock: systemClock,
    logger: createSilentLogger(),
    connectTimeoutMs: 3000,
    commandTimeoutMs: 3000,
    ...overrides,
  };
}
