import type { ComputeContext, SeedValues } from './menu-spec.js';
import { formatDeviceDate, MONTHS } from './profiles.js';
import { DeviceTrap } from './types.js';

/*
 * When `/system scheduler` items run, as MikroTik's scheduler documentation describes: an item
 * runs at its start date and time, then every `interval` unless the interval is 0.
 * `start-time=startup` means 3 seconds after boot. With an interval other than 0 such an item
 * does not run at boot itself, only every interval after it. Times are in the device's time
 * zone, which is UTC on the simulator.
 */

/** Delay of `start-time=startup` items after boot, in milliseconds. */
export const STARTUP_DELAY_MS = 3000;

const TIME_OF_DAY = /^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$/;

const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

const MONTH_DATE = /^([a-z]{3})\/([0-9]{2})\/([0-9]{4})$/;

function invalid(name: string): DeviceTrap {
  return new DeviceTrap(`invalid value for argument ${name}`, 1);
}

/** Seconds since midnight of a `start-time` such as `03:00:00` or `3:00`, or undefined. */
function secondsOfDay(text: string): number | undefined {
  const match = TIME_OF_DAY.exec(text);
  if (match === null) {
    return undefined;
  }

  const [hours, minutes, seconds] = [match[1], match[2], match[3] ?? '0'].map(Number);
  if (hours === undefined || minutes === undefined || seconds === undefined) {
    return undefined;
  }

  if (hours > 23 || minutes > 59 || seconds > 59) {
    return undefined;
  }

  return hours * 3600 + minutes * 60 + seconds;
}

/** Milliseconds at midnight UTC of a `start-date` in either device format, or undefined. */
function midnightOf(text: string): number | undefined {
  const iso = ISO_DATE.exec(text);
  const named = MONTH_DATE.exec(text.toLowerCase());
  let parts: [number, number, number] | undefined;
  if (iso !== null) {
    parts = [Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])];
  } else if (named !== null) {
    parts = [Number(named[3]), MONTHS.indexOf(named[1] ?? ''), Number(named[2])];
  }

  if (parts === undefined || parts[1] < 0) {
    return undefined;
  }

  const [year, month, day] = parts;
  const ms = Date.UTC(year, month, day);
  const date = new Date(ms);
  return date.getUTCMonth() === month && date.getUTCDate() === day ? ms : undefined;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * Validates `start-time` and `start-date` of an item being added or set and writes them as the
 * device prints them. A time of day without a date gets the current date, and `startup`
 * drops the date.
 */
export function normalizeSchedule(values: SeedValues, device: ComputeContext): SeedValues {
  const startTime = values['start-time'];
  if (startTime === undefined || startTime === 'startup') {
    const { 'start-date': _dropped, ...rest } = values;
    return rest;
  }

  const seconds = secondsOfDay(startTime);
  if (seconds === undefined) {
    throw invalid('start-time');
  }

  const time = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  const dateText = values['start-date'];
  const midnight = dateText === undefined ? device.nowMs : midnightOf(dateText);
  if (midnight === undefined) {
    throw invalid('start-date');
  }

  const [date = ''] = formatDeviceDate(device.version, new Date(midnight)).split(' ');
  return { ...values, 'start-date': date, 'start-time': time };
}

/** Returns the first run of an item, before the interval repeats it, in milliseconds. */
function firstRunMs(values: SeedValues, bootMs: number, intervalMs: number): number | undefined {
  const startTime = values['start-time'] ?? 'startup';
  if (startTime === 'startup') {
    const startup = bootMs + STARTUP_DELAY_MS;
    return intervalMs > 0 ? startup + intervalMs : startup;
  }

  const midnight = midnightOf(values['start-date'] ?? '');
  const seconds = secondsOfDay(startTime);
  return midnight === undefined || seconds === undefined ? undefined : midnight + seconds * 1000;
}

/**
 * Returns when an enabled item runs next after `afterMs`, in milliseconds on the device clock,
 * or undefined when it never runs again.
 */
export function nextRunMs(values: SeedValues, afterMs: number, bootMs: number): number | undefined {
  if (values.disabled === 'true') {
    return undefined;
  }

  const intervalMs = Number(values.interval ?? '0') * 1000;
  const first = firstRunMs(values, bootMs, intervalMs);
  if (first === undefined || first > afterMs) {
    return first;
  }

  if (!(intervalMs > 0)) {
    return undefined;
  }

  return first + (Math.floor((afterMs - first) / intervalMs) + 1) * intervalMs;
}

/** Adds `next-run` to an item's values as `print detail` and the API show it. */
export function withNextRun(values: SeedValues, device: ComputeContext): SeedValues {
  const next = nextRunMs(values, device.nowMs, device.bootMs);
  if (next === undefined) {
    return values;
  }

  return { ...values, 'next-run': formatDeviceDate(device.version, new Date(next)) };
}
