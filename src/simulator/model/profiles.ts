import type { RouterOsVersion } from './types.js';
import { isAtLeast } from './version.js';

/** Hardware a simulated device reports in `/system resource` and `/interface`. */
export type BoardProfile = {
  /** Short key used in options: `chr` or `rb5009`. */
  readonly key: 'chr' | 'rb5009';
  readonly boardName: string;
  readonly architectureName: string;
  readonly cpu: string;
  readonly cpuCount: number;
  /** MHz. */
  readonly cpuFrequency: number;
  /** Bytes. */
  readonly totalMemory: number;
  /** Bytes. */
  readonly totalHddSpace: number;
  readonly interfaces: readonly string[];
  /** First five bytes of the interfaces' MAC addresses, `48:A9:8A:1C:2D`; the last byte counts up. */
  readonly macPrefix: string;
  /** Whether the factory configuration (bridge, 192.168.88.1/24, firewall) is present. */
  readonly defaultConfiguration: boolean;
};

const MIB = 1024 * 1024;

const CHR_CPUS = [
  'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz',
  'AMD EPYC 7302P 16-Core Processor',
  'Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz',
];

export const BOARD_KEYS = ['chr', 'rb5009'] as const;

/** Builds the hardware of a board, varying the details a seed may vary (CHR CPU and memory). */
export function boardProfile(key: 'chr' | 'rb5009', random: () => number): BoardProfile {
  if (key === 'rb5009') {
    return {
      key,
      boardName: 'RB5009UG+S+',
      architectureName: 'arm64',
      cpu: 'ARM64',
      cpuCount: 4,
      cpuFrequency: 1400,
      totalMemory: 1024 * MIB,
      totalHddSpace: 1024 * MIB,
      interfaces: [
        'ether1',
        'ether2',
        'ether3',
        'ether4',
        'ether5',
        'ether6',
        'ether7',
        'ether8',
        'sfp-sfpplus1',
      ],
      defaultConfiguration: true,
      macPrefix: macPrefix('48:A9:8A', random),
    };
  }

  const cpuIndex = Math.floor(random() * CHR_CPUS.length);
  const cpuCount = [1, 2, 4][Math.floor(random() * 3)] ?? 2;
  return {
    key,
    boardName: 'CHR',
    architectureName: 'x86_64',
    cpu: CHR_CPUS[cpuIndex] ?? 'AMD EPYC 7302P 16-Core Processor',
    cpuCount,
    cpuFrequency: 2100 + Math.floor(random() * 4) * 100,
    totalMemory: cpuCount * 512 * MIB,
    totalHddSpace: 128 * MIB,
    interfaces: ['ether1', 'ether2', 'ether3', 'ether4'],
    defaultConfiguration: false,
    macPrefix: macPrefix('52:54:00', random),
  };
}

function macPrefix(vendor: string, random: () => number): string {
  const byte = () =>
    Math.floor(random() * 256)
      .toString(16)
      .toUpperCase()
      .padStart(2, '0');
  return `${vendor}:${byte()}:${byte()}`;
}

/** A small deterministic generator (mulberry32) seeded from text. */
export function seededRandom(seed: string): () => number {
  let state = 0x9e3779b9;
  for (let i = 0; i < seed.length; i += 1) {
    state = Math.imul(state ^ seed.charCodeAt(i), 0x85ebca6b) >>> 0;
  }

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Release channel printed after the version in `/system resource`. */
export function releaseChannel(version: RouterOsVersion): string {
  if (version.rc !== undefined) {
    return 'testing';
  }

  if (version.major === 6 && version.minor >= 48) {
    return 'long-term';
  }

  return 'stable';
}

export const MONTHS = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
];

/** Release months of minor versions, `[major, minor, year, month]`, to place build times. */
const RELEASES: ReadonlyArray<readonly [number, number, number, number]> = [
  [6, 40, 2017, 7],
  [6, 42, 2018, 4],
  [6, 43, 2018, 9],
  [6, 44, 2019, 2],
  [6, 45, 2019, 8],
  [6, 46, 2019, 12],
  [6, 47, 2020, 6],
  [6, 48, 2020, 12],
  [6, 49, 2021, 10],
  [7, 1, 2021, 12],
  [7, 5, 2022, 8],
  [7, 10, 2023, 6],
  [7, 12, 2023, 10],
  [7, 14, 2024, 2],
  [7, 15, 2024, 5],
  [7, 16, 2024, 9],
  [7, 17, 2024, 12],
  [7, 18, 2025, 2],
  [7, 19, 2025, 5],
];

/**
 * A plausible build time for a version: the release month of its minor version (or the
 * nearest earlier one listed), plus five weeks per patch release. Real build times are not
 * reproduced; the value has the device's format and the right order.
 */
export function buildTime(version: RouterOsVersion): Date {
  let chosen = RELEASES[0] ?? [6, 40, 2017, 7];
  for (const release of RELEASES) {
    if (
      release[0] < version.major ||
      (release[0] === version.major && release[1] <= version.minor)
    ) {
      chosen = release;
    }
  }

  const [, , year, month] = chosen;
  const weeks = version.patch * 5 - (version.rc === undefined ? 0 : 3);
  return new Date(Date.UTC(year, month - 1, 14, 9, 12, 30) + weeks * 7 * 86_400_000);
}

/**
 * Formats a date as the device prints dates: `2024-05-03 12:56:09` from RouterOS 7.10 on,
 * `may/03/2024 12:56:09` before.
 */
export function formatDeviceDate(version: RouterOsVersion, date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  const day = pad(date.getUTCDate());
  if (isAtLeast(version, 7, 10)) {
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${day} ${time}`;
  }

  return `${MONTHS[date.getUTCMonth()]}/${day}/${date.getUTCFullYear()} ${time}`;
}
