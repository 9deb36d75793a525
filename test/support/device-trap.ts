import { DeviceTrap } from '../../src/simulator/model/types.js';

/** Awaits a promise that must reject with a DeviceTrap and returns the trap. */
export async function trapOf(promise: Promise<unknown>): Promise<DeviceTrap> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof DeviceTrap)) {
    throw new Error(`expected a DeviceTrap, got ${String(error)}`);
  }

  return error;
}
