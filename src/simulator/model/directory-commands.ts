import type { MenuCall, RunContext } from '../script/host.js';
import { parseTime } from '../script/time.js';
import { NOTHING, num, type ScriptValue, toNum, toStr } from '../script/values.js';
import type { MenuNode } from './command-catalog.js';
import type { DeviceRuntime } from './runtime.js';
import { ping } from './streams.js';
import { type ApiRow, DeviceTrap } from './types.js';

function cell(row: ApiRow, name: string): string {
  return row.find(([key]) => key === name)?.[1] ?? '';
}

function pingLine(row: ApiRow): string {
  const columns = [
    cell(row, 'seq').padStart(5),
    cell(row, 'host').padEnd(40),
    cell(row, 'size').padStart(4),
    cell(row, 'ttl').padStart(3),
    cell(row, 'time').padEnd(10),
    cell(row, 'status'),
  ];
  return `${columns.join(' ').trimEnd()}\r\n`;
}

/** Milliseconds between pings from an `interval=` argument; one second when absent. */
function intervalMs(value: ScriptValue | undefined): number {
  if (value === undefined) {
    return 1000;
  }

  const seconds = value.type === 'time' ? value.value : parseTime(toStr(value));
  if (seconds === undefined || seconds <= 0) {
    throw new DeviceTrap('invalid value for argument interval', 1);
  }

  return seconds * 1000;
}

/**
 * `/ping` prints a table and returns how many replies came back, so scripts can write
 * `:if ([/ping 192.0.2.1 count=3] = 0)`. Without `count` it runs until interrupted.
 */
async function consolePing(runtime: DeviceRuntime, call: MenuCall, context: RunContext) {
  const address = toStr(call.positional[0] ?? call.named.get('address') ?? NOTHING);
  const countValue = call.named.get('count');
  const count = countValue === undefined ? undefined : toNum(countValue);
  if (countValue !== undefined && (count === undefined || count < 1)) {
    throw new DeviceTrap('invalid value for argument count', 1);
  }

  context.write(`${'  SEQ HOST'.padEnd(46)}SIZE TTL TIME       STATUS\r\n`);
  let last: ApiRow = [];
  const summary = await ping(
    runtime,
    { address, count, intervalMs: intervalMs(call.named.get('interval')) },
    context.signal,
    (row) => {
      last = row;
      context.write(pingLine(row));
    },
  );
  const loss = cell(last, 'packet-loss');
  context.write(
    `    sent=${summary.sent} received=${summary.received} packet-loss=${loss}%\r\n\r\n`,
  );
  return num(summary.received);
}

/** Commands of menus without items: `/ping`, `/system reboot`. */
export async function runDirectoryCommand(
  runtime: DeviceRuntime,
  node: MenuNode,
  call: MenuCall,
  context: RunContext,
): Promise<ScriptValue> {
  const key = `${node.path.join('/')}/${call.command}`;
  switch (key) {
    case '/ping':
      return consolePing(runtime, call, context);
    case 'system/reboot':
      runtime.reboot();
      return NOTHING;
    default:
      throw new DeviceTrap(`bad command name ${call.command}`, 0);
  }
}
