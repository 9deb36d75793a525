import { signature } from '../../script/catalog.js';
import {
  COMMENT,
  type ComputeContext,
  DISABLED,
  DISABLED_FLAG,
  defineMenu,
  type MenuSpec,
  type SeedValues,
} from '../menu-spec.js';
import { buildTime, formatDeviceDate, releaseChannel } from '../profiles.js';
import { normalizeSchedule, withNextRun } from '../schedule-time.js';
import { BOOL, integer, oneOf, type PropertySpec, readOnly, STRING, TIME } from '../schema.js';
import type { RouterOsVersion } from '../types.js';

const POLICIES = [
  'ftp',
  'reboot',
  'read',
  'write',
  'policy',
  'test',
  'password',
  'sniff',
  'sensitive',
  'romon',
];

const DEFAULT_POLICY = POLICIES.join(',');

const identity = defineMenu({
  path: 'system/identity',
  kind: 'singleton',
  properties: [{ name: 'name', type: STRING, default: 'MikroTik' }],
  seed: (context) => [{ name: context.identity }],
});

const RESOURCE_PROPERTIES = [
  'uptime',
  'version',
  'build-time',
  'factory-software',
  'free-memory',
  'total-memory',
  'cpu',
  'cpu-count',
  'cpu-frequency',
  'cpu-load',
  'free-hdd-space',
  'total-hdd-space',
  'write-sect-since-reboot',
  'write-sect-total',
  'architecture-name',
  'board-name',
  'platform',
];

const RESOURCE_TYPES: Readonly<Record<string, Partial<PropertySpec>>> = {
  uptime: { type: TIME },
  'free-memory': { type: { kind: 'bytes' } },
  'total-memory': { type: { kind: 'bytes' } },
  'free-hdd-space': { type: { kind: 'bytes' } },
  'total-hdd-space': { type: { kind: 'bytes' } },
  'cpu-count': { type: integer(1, 1024) },
  'cpu-frequency': { type: integer(0, 100_000), unit: 'MHz' },
  'cpu-load': { type: integer(0, 100), unit: '%' },
  'write-sect-since-reboot': { type: integer(0, Number.MAX_SAFE_INTEGER) },
  'write-sect-total': { type: integer(0, Number.MAX_SAFE_INTEGER) },
};

function resourceValues(_stored: SeedValues, device: ComputeContext): SeedValues {
  const { profile, version, uptimeSeconds } = device;
  const churn = (uptimeSeconds * 7919) % 4_000_000;
  return {
    uptime: String(uptimeSeconds),
    version: `${version.text} (${releaseChannel(version)})`,
    'build-time': formatDeviceDate(version, buildTime(version)),
    'factory-software': version.major >= 7 ? '7.5' : '6.44.6',
    'free-memory': String(Math.floor(profile.totalMemory * 0.82) - churn),
    'total-memory': String(profile.totalMemory),
    cpu: profile.cpu,
    'cpu-count': String(profile.cpuCount),
    'cpu-frequency': String(profile.cpuFrequency),
    'cpu-load': String(uptimeSeconds % 7),
    'free-hdd-space': String(Math.floor(profile.totalHddSpace * 0.86)),
    'total-hdd-space': String(profile.totalHddSpace),
    'write-sect-since-reboot': String(1200 + Math.floor(uptimeSeconds / 60)),
    'write-sect-total': String(48_211 + Math.floor(uptimeSeconds / 60)),
    'architecture-name': profile.architectureName,
    'board-name': profile.boardName,
    platform: 'MikroTik',
  };
}

const resource = defineMenu({
  path: 'system/resource',
  kind: 'singleton',
  canSet: false,
  exported: false,
  properties: RESOURCE_PROPERTIES.map((name) => readOnly(name, RESOURCE_TYPES[name] ?? {})),
  compute: resourceValues,
});

function clockValues(stored: SeedValues, device: ComputeContext): SeedValues {
  const text = formatDeviceDate(device.version, new Date(device.nowMs));
  const [date = '', time = ''] = text.split(' ');
  return { ...stored, time, date, 'gmt-offset': '+00:00', 'dst-active': 'false' };
}

const clock = defineMenu({
  path: 'system/clock',
  kind: 'singleton',
  properties: [
    readOnly('time'),
    readOnly('date'),
    { name: 'time-zone-autodetect', type: BOOL, default: 'true' },
    { name: 'time-zone-name', type: STRING, default: 'manual' },
    readOnly('gmt-offset'),
    { name: 'dst-active', type: BOOL, readOnly: true },
  ],
  compute: clockValues,
});

function ntpClient(version: RouterOsVersion): MenuSpec {
  const common: PropertySpec[] = [
    { name: 'enabled', type: BOOL, default: 'false' },
    {
      name: 'mode',
      type: oneOf(['unicast', 'broadcast', 'multicast', 'manycast']),
      default: 'unicast',
    },
  ];
  if (version.major >= 7) {
    return defineMenu({
      path: 'system/ntp/client',
      kind: 'singleton',
      properties: [
        ...common,
        { name: 'servers', type: STRING, default: '' },
        { name: 'vrf', type: STRING, default: 'main' },
        readOnly('status', { default: 'stopped' }),
      ],
    });
  }

  return defineMenu({
    path: 'system/ntp/client',
    kind: 'singleton',
    properties: [
      ...common,
      { name: 'primary-ntp', type: { kind: 'ip' }, default: '0.0.0.0' },
      { name: 'secondary-ntp', type: { kind: 'ip' }, default: '0.0.0.0' },
      { name: 'server-dns-names', type: STRING, default: '' },
      readOnly('status', { default: 'stopped' }),
    ],
  });
}

const scheduler = defineMenu({
  path: 'system/scheduler',
  nameProperty: 'name',
  columns: ['name', 'start-date', 'start-time', 'interval', 'on-event', 'run-count'],
  flags: [DISABLED_FLAG],
  properties: [
    { name: 'name', type: STRING, required: true, unique: true },
    { name: 'start-date', type: STRING },
    { name: 'start-time', type: STRING, default: 'startup' },
    { name: 'interval', type: TIME, default: '0' },
    { name: 'on-event', type: STRING, default: '' },
    { name: 'policy', type: oneOf(POLICIES, true), default: DEFAULT_POLICY, detailOnly: true },
    readOnly('owner', { default: 'admin', detailOnly: true }),
    { name: 'run-count', type: integer(0, Number.MAX_SAFE_INTEGER), readOnly: true, default: '0' },
    readOnly('next-run', { detailOnly: true }),
    COMMENT,
    DISABLED,
  ],
  onWrite: normalizeSchedule,
  compute: withNextRun,
});

const script = defineMenu({
  path: 'system/script',
  nameProperty: 'name',
  properties: [
    { name: 'name', type: STRING, required: true, unique: true },
    readOnly('owner', { default: 'admin' }),
    { name: 'policy', type: oneOf(POLICIES, true), default: DEFAULT_POLICY },
    { name: 'dont-require-permissions', type: BOOL, default: 'false' },
    readOnly('last-started'),
    { name: 'run-count', type: integer(0, Number.MAX_SAFE_INTEGER), readOnly: true, default: '0' },
    { name: 'source', type: STRING, default: '' },
    COMMENT,
  ],
  extraCommands: [['run', signature({ positional: ['number'], named: ['number'] })]],
});

const job = defineMenu({
  path: 'system/script/job',
  columns: ['script', 'owner', 'started'],
  canAdd: false,
  canSet: false,
  exported: false,
  properties: [
    readOnly('type'),
    readOnly('script'),
    readOnly('owner'),
    readOnly('policy', { detailOnly: true }),
    readOnly('started'),
  ],
});

const environment = defineMenu({
  path: 'system/script/environment',
  columns: ['name', 'user', 'value'],
  canAdd: false,
  canSet: false,
  exported: false,
  nameProperty: 'name',
  properties: [readOnly('name'), readOnly('user'), readOnly('value')],
});

/** The `/system` menus of a RouterOS version. */
export function systemMenus(version: RouterOsVersion): MenuSpec[] {
  return [identity, resource, clock, ntpClient(version), scheduler, script, job, environment];
}
