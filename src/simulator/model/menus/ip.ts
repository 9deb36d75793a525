import { networkOf, parsePrefix } from '../../script/values.js';
import {
  COMMENT,
  DISABLED,
  DISABLED_FLAG,
  DYNAMIC_FLAG,
  defineMenu,
  INVALID_FLAG,
  type MenuSpec,
  type SeedContext,
  type SeedValues,
} from '../menu-spec.js';
import { formatDeviceDate } from '../profiles.js';
import { ADDRESS, BOOL, integer, oneOf, type PropertySpec, STRING, TIME } from '../schema.js';
import type { RouterOsVersion } from '../types.js';
import { DEFAULT_FILTER_RULES, DEFAULT_NAT_RULES } from './defaults.js';

const READ_ONLY_FALSE = (name: string): PropertySpec => ({
  name,
  type: BOOL,
  readOnly: true,
  default: 'false',
  detailOnly: true,
});

const INTERFACE_REFERENCE = { kind: 'reference', menu: 'interface' } as const;

/** Fills in `network` from an address such as `192.168.88.1/24`, as `/ip address` does. */
function addressValues(stored: SeedValues): SeedValues {
  const prefix = parsePrefix(stored.address ?? '');
  const network =
    stored.network ??
    (prefix === undefined ? stored.address : networkOf(prefix.address, prefix.length));
  return { ...stored, network: network ?? '', 'actual-interface': stored.interface ?? '' };
}

function addressSeed(context: SeedContext): SeedValues[] {
  if (!context.profile.defaultConfiguration) {
    return [];
  }

  return [{ address: '192.168.88.1/24', interface: 'bridge', comment: 'defconf' }];
}

const address = defineMenu({
  path: 'ip/address',
  columns: ['address', 'network', 'interface'],
  flags: [DISABLED_FLAG, INVALID_FLAG, DYNAMIC_FLAG],
  properties: [
    { name: 'address', type: ADDRESS, required: true },
    { name: 'network', type: { kind: 'ip' } },
    { name: 'interface', type: INTERFACE_REFERENCE, required: true },
    { name: 'actual-interface', type: STRING, readOnly: true, detailOnly: true },
    COMMENT,
    DISABLED,
    READ_ONLY_FALSE('invalid'),
    READ_ONLY_FALSE('dynamic'),
  ],
  seed: addressSeed,
  compute: addressValues,
});

function dns(version: RouterOsVersion): MenuSpec {
  const properties: PropertySpec[] = [
    { name: 'servers', type: { kind: 'ip-list' }, default: '' },
    { name: 'dynamic-servers', type: STRING, readOnly: true, default: '' },
    { name: 'allow-remote-requests', type: BOOL, default: 'false' },
    { name: 'max-udp-packet-size', type: integer(50, 65_507), default: '4096' },
    { name: 'query-server-timeout', type: TIME, default: '2' },
    { name: 'query-total-timeout', type: TIME, default: '10' },
    { name: 'max-concurrent-queries', type: integer(0, 4_294_967_295), default: '100' },
    { name: 'max-concurrent-tcp-sessions', type: integer(0, 4_294_967_295), default: '20' },
    { name: 'cache-size', type: integer(64, 4_294_967_295), default: '2048', unit: 'KiB' },
    { name: 'cache-max-ttl', type: TIME, default: '604800' },
    {
      name: 'cache-used',
      type: integer(0, 4_294_967_295),
      readOnly: true,
      default: '31',
      unit: 'KiB',
    },
  ];
  if (version.major >= 7) {
    properties.splice(
      3,
      0,
      { name: 'use-doh-server', type: STRING, default: '' },
      { name: 'verify-doh-cert', type: BOOL, default: 'false' },
    );
  }

  return defineMenu({
    path: 'ip/dns',
    kind: 'singleton',
    properties,
    seed: (context) => [
      context.profile.defaultConfiguration ? { 'allow-remote-requests': 'true' } : {},
    ],
  });
}

/** Properties shared by the filter and NAT tables, after `chain` and `action`. */
const RULE_PROPERTIES: PropertySpec[] = [
  { name: 'protocol', type: STRING },
  { name: 'src-address', type: ADDRESS },
  { name: 'dst-address', type: ADDRESS },
  { name: 'src-address-list', type: STRING },
  { name: 'dst-address-list', type: STRING },
  { name: 'src-port', type: { kind: 'ports' } },
  { name: 'dst-port', type: { kind: 'ports' } },
  { name: 'port', type: { kind: 'ports' } },
  { name: 'in-interface', type: STRING },
  { name: 'out-interface', type: STRING },
  { name: 'in-interface-list', type: STRING },
  { name: 'out-interface-list', type: STRING },
  {
    name: 'connection-state',
    type: oneOf(['established', 'related', 'new', 'invalid', 'untracked'], true),
  },
  { name: 'connection-nat-state', type: oneOf(['dstnat', 'srcnat'], true) },
  { name: 'ipsec-policy', type: STRING },
  { name: 'jump-target', type: STRING },
  { name: 'address-list', type: STRING },
  { name: 'address-list-timeout', type: TIME },
  { name: 'log', type: BOOL, default: 'false' },
  { name: 'log-prefix', type: STRING, default: '' },
  COMMENT,
  DISABLED,
  {
    name: 'bytes',
    type: integer(0, Number.MAX_SAFE_INTEGER),
    readOnly: true,
    default: '0',
    detailOnly: true,
  },
  {
    name: 'packets',
    type: integer(0, Number.MAX_SAFE_INTEGER),
    readOnly: true,
    default: '0',
    detailOnly: true,
  },
  READ_ONLY_FALSE('invalid'),
  READ_ONLY_FALSE('dynamic'),
];

const FILTER_ACTIONS = [
  'accept',
  'add-dst-to-address-list',
  'add-src-to-address-list',
  'drop',
  'fasttrack-connection',
  'jump',
  'log',
  'passthrough',
  'reject',
  'return',
  'tarpit',
];

const NAT_ACTIONS = [
  'accept',
  'add-dst-to-address-list',
  'add-src-to-address-list',
  'dst-nat',
  'jump',
  'log',
  'masquerade',
  'netmap',
  'passthrough',
  'redirect',
  'return',
  'same',
  'src-nat',
];

function firewallTable(path: string, actions: string[], extra: PropertySpec[]) {
  return (seed: (context: SeedContext) => readonly SeedValues[]) =>
    defineMenu({
      path,
      ordered: true,
      flags: [DISABLED_FLAG, INVALID_FLAG, DYNAMIC_FLAG],
      properties: [
        { name: 'chain', type: STRING, required: true },
        { name: 'action', type: oneOf(actions), default: 'accept' },
        ...extra,
        ...RULE_PROPERTIES,
      ],
      seed,
    });
}

const filter = firewallTable('ip/firewall/filter', FILTER_ACTIONS, [
  {
    name: 'reject-with',
    type: oneOf([
      'icmp-admin-prohibited',
      'icmp-host-prohibited',
      'icmp-host-unreachable',
      'icmp-net-prohibited',
      'icmp-network-unreachable',
      'icmp-port-unreachable',
      'icmp-protocol-unreachable',
      'tcp-reset',
    ]),
  },
])((context) => (context.profile.defaultConfiguration ? DEFAULT_FILTER_RULES : []));

const nat = firewallTable('ip/firewall/nat', NAT_ACTIONS, [
  { name: 'to-addresses', type: ADDRESS },
  { name: 'to-ports', type: { kind: 'ports' } },
])((context) => (context.profile.defaultConfiguration ? DEFAULT_NAT_RULES : []));

const addressList = defineMenu({
  path: 'ip/firewall/address-list',
  columns: ['list', 'address', 'creation-time'],
  flags: [DISABLED_FLAG, DYNAMIC_FLAG],
  uniqueTogether: { properties: ['list', 'address'], message: 'failure: already have such entry' },
  properties: [
    { name: 'list', type: STRING, required: true },
    { name: 'address', type: STRING, required: true },
    { name: 'timeout', type: TIME },
    { name: 'creation-time', type: STRING, readOnly: true },
    COMMENT,
    DISABLED,
    READ_ONLY_FALSE('dynamic'),
  ],
  onWrite: (values, device, added) =>
    added
      ? { ...values, 'creation-time': formatDeviceDate(device.version, new Date(device.nowMs)) }
      : values,
});

const SERVICES: ReadonlyArray<readonly [string, number, boolean]> = [
  ['telnet', 23, false],
  ['ftp', 21, false],
  ['www', 80, false],
  ['ssh', 22, false],
  ['www-ssl', 443, true],
  ['api', 8728, false],
  ['winbox', 8291, false],
  ['api-ssl', 8729, false],
];

const service = defineMenu({
  path: 'ip/service',
  columns: ['name', 'port', 'address', 'certificate'],
  flags: [DISABLED_FLAG, INVALID_FLAG],
  canAdd: false,
  canRemove: false,
  nameProperty: 'name',
  properties: [
    { name: 'name', type: STRING, readOnly: true },
    { name: 'port', type: integer(1, 65_535) },
    { name: 'address', type: STRING, default: '' },
    { name: 'certificate', type: STRING },
    DISABLED,
    READ_ONLY_FALSE('invalid'),
  ],
  seed: () =>
    SERVICES.map(([name, port, disabled]) => {
      const values: Record<string, string> = {
        name,
        port: String(port),
        disabled: String(disabled),
      };
      if (name === 'www-ssl' || name === 'api-ssl') {
        values.certificate = 'none';
      }

      return values;
    }),
});

/** The `/ip` menus of a RouterOS version. */
export function ipMenus(version: RouterOsVersion): MenuSpec[] {
  return [address, dns(version), filter, nat, addressList, service];
}
