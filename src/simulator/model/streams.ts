import { sleep } from '../../clock.js';
import { isIp, parsePrefix } from '../script/values.js';
import type { DeviceRuntime } from './runtime.js';
import type { Item } from './state.js';
import { type ApiRow, DeviceTrap } from './types.js';

/**
 * Commands that run until stopped on real devices: `/ping` without `count`, `/interface
 * monitor-traffic` without `once` and `/log print follow`. Each emits rows as time passes on
 * the device clock and, when the signal aborts, fails with the `interrupted` trap.
 */

function interrupted(): DeviceTrap {
  return new DeviceTrap('interrupted', 2);
}

/** Waits on the device clock; an abort becomes the `interrupted` trap. */
async function wait(runtime: DeviceRuntime, milliseconds: number, signal: AbortSignal) {
  if (signal.aborted) {
    throw interrupted();
  }

  try {
    await sleep(runtime.clock, milliseconds, signal);
  } catch {
    throw interrupted();
  }
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) {
      reject(interrupted());
      return;
    }

    signal.addEventListener('abort', () => reject(interrupted()), { once: true });
  });
}

/** Emits each new `/log` entry until the signal aborts. */
export async function followLogEntries(
  runtime: DeviceRuntime,
  signal: AbortSignal,
  emit: (item: Item) => void,
): Promise<never> {
  const spec = runtime.engine.spec('log');
  const stop = runtime.followLog((id) => {
    const item = runtime.engine.items(spec).find((candidate) => candidate.id === id);
    if (item !== undefined) {
      emit(item);
    }
  });
  try {
    return await untilAborted(signal);
  } finally {
    stop();
  }
}

function trafficRow(name: string, second: number): ApiRow {
  const packets = 12 + (second % 5);
  return [
    ['name', name],
    ['rx-packets-per-second', String(packets)],
    ['rx-bits-per-second', String(packets * 8 * 420)],
    ['fp-rx-packets-per-second', '0'],
    ['fp-rx-bits-per-second', '0'],
    ['rx-drops-per-second', '0'],
    ['rx-errors-per-second', '0'],
    ['tx-packets-per-second', String(packets - 3)],
    ['tx-bits-per-second', String((packets - 3) * 8 * 380)],
    ['fp-tx-packets-per-second', '0'],
    ['fp-tx-bits-per-second', '0'],
    ['tx-drops-per-second', '0'],
    ['tx-queue-drops-per-second', '0'],
    ['tx-errors-per-second', '0'],
  ];
}

/** Emits traffic rows for an interface once, or every second until interrupted. */
export async function monitorTraffic(
  runtime: DeviceRuntime,
  name: string,
  once: boolean,
  signal: AbortSignal,
  emit: (row: ApiRow) => void,
): Promise<void> {
  if (!runtime.engine.names('interface').includes(name)) {
    throw new DeviceTrap('input does not match any value of interface', 1);
  }

  for (let second = 0; ; second += 1) {
    emit(trafficRow(name, second));
    if (once) {
      return;
    }

    await wait(runtime, 1000, signal);
  }
}

/** Reports whether `address` replies to a ping: loopback and the device's own addresses do. */
function answers(runtime: DeviceRuntime, address: string): boolean {
  if (address.startsWith('127.')) {
    return true;
  }

  const spec = runtime.engine.spec('ip/address');
  return runtime.engine
    .items(spec)
    .some((item) => parsePrefix(item.values.address ?? '')?.address === address);
}

export type PingSummary = { sent: number; received: number };

/**
 * Pings `count` times, or until interrupted when `count` is undefined. The simulator has no
 * network: only loopback and the device's own addresses reply, everything else times out.
 */
export async function ping(
  runtime: DeviceRuntime,
  options: { address: string; count: number | undefined; intervalMs: number },
  signal: AbortSignal,
  emit: (row: ApiRow) => void,
): Promise<PingSummary> {
  const { address, count, intervalMs } = options;
  if (!isIp(address)) {
    throw new DeviceTrap('invalid value for argument address', 1);
  }

  const replies = answers(runtime, address);
  const summary: PingSummary = { sent: 0, received: 0 };
  for (let seq = 0; count === undefined || seq < count; seq += 1) {
    if (!replies || seq > 0) {
      await wait(runtime, intervalMs, signal);
    }

    summary.sent += 1;
    summary.received += replies ? 1 : 0;
    const loss = String(Math.round((100 * (summary.sent - summary.received)) / summary.sent));
    const common: ApiRow = [
      ['seq', String(seq)],
      ['host', address],
    ];
    const result: ApiRow = replies
      ? [
          ['size', '56'],
          ['ttl', '64'],
          ['time', '0ms'],
        ]
      : [['status', 'timeout']];
    emit([
      ...common,
      ...result,
      ['sent', String(summary.sent)],
      ['received', String(summary.received)],
      ['packet-loss', loss],
    ]);
  }

  return summary;
}
