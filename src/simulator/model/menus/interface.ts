import { signature } from '../../script/catalog.js';
import {
  COMMENT,
  DISABLED,
  DISABLED_FLAG,
  DYNAMIC_FLAG,
  defineMenu,
  type MenuSpec,
  RUNNING_FLAG,
  type SeedContext,
  type SeedValues,
} from '../menu-spec.js';
import { BOOL, integer, oneOf, type PropertySpec, readOnly, STRING } from '../schema.js';

function macAddress(context: SeedContext, index: number): string {
  return `${context.profile.macPrefix}:${index.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Ethernet ports of the board, then the factory bridge where the board ships one. */
function interfaceSeed(context: SeedContext): SeedValues[] {
  const items: SeedValues[] = context.profile.interfaces.map((name, index) => ({
    name,
    'default-name': name,
    type: 'ether',
    mtu: '1500',
    'actual-mtu': '1500',
    l2mtu: context.profile.key === 'chr' ? '' : '1514',
    'mac-address': macAddress(context, index + 1),
    running: index === 0 ? 'true' : 'false',
  }));
  if (context.profile.defaultConfiguration) {
    items.push({
      name: 'bridge',
      type: 'bridge',
      mtu: 'auto',
      'actual-mtu': '1500',
      l2mtu: '1514',
      'mac-address': macAddress(context, 2),
      running: 'true',
      comment: 'defconf',
      'protocol-mode': 'rstp',
      'vlan-filtering': 'false',
    });
  }

  return items;
}

const INTERFACE_FLAGS = [DISABLED_FLAG, DYNAMIC_FLAG, RUNNING_FLAG];

const RUNNING: PropertySpec = {
  name: 'running',
  type: BOOL,
  readOnly: true,
  default: 'false',
  detailOnly: true,
};

const DYNAMIC: PropertySpec = {
  name: 'dynamic',
  type: BOOL,
  readOnly: true,
  default: 'false',
  detailOnly: true,
};

const interfaces = defineMenu({
  path: 'interface',
  columns: ['name', 'type', 'actual-mtu', 'l2mtu', 'mac-address'],
  flags: INTERFACE_FLAGS,
  canAdd: false,
  canRemove: false,
  nameProperty: 'name',
  properties: [
    { name: 'name', type: STRING, unique: true },
    readOnly('default-name', { detailOnly: true }),
    readOnly('type'),
    { name: 'mtu', type: STRING, detailOnly: true },
    readOnly('actual-mtu'),
    readOnly('l2mtu'),
    readOnly('mac-address'),
    COMMENT,
    DISABLED,
    RUNNING,
    DYNAMIC,
  ],
  extraCommands: [
    [
      'monitor-traffic',
      signature({
        positional: ['interface'],
        named: ['interface', 'duration', 'interval'],
        flags: ['once'],
      }),
    ],
  ],
  seed: interfaceSeed,
  exported: false,
});

const ethernet = defineMenu({
  path: 'interface/ethernet',
  columns: ['name', 'mtu', 'mac-address'],
  flags: INTERFACE_FLAGS,
  canAdd: false,
  canRemove: false,
  nameProperty: 'name',
  view: { base: 'interface', match: { type: 'ether' } },
  properties: [
    { name: 'name', type: STRING, unique: true },
    readOnly('default-name'),
    { name: 'mtu', type: integer(0, 65_535), default: '1500' },
    readOnly('mac-address'),
    {
      name: 'arp',
      type: oneOf(['disabled', 'enabled', 'local-proxy-arp', 'proxy-arp', 'reply-only']),
      default: 'enabled',
      detailOnly: true,
    },
    COMMENT,
    DISABLED,
    RUNNING,
  ],
});

const bridge = defineMenu({
  path: 'interface/bridge',
  columns: ['name', 'mtu', 'actual-mtu', 'l2mtu', 'mac-address'],
  flags: INTERFACE_FLAGS,
  nameProperty: 'name',
  view: { base: 'interface', match: { type: 'bridge' } },
  properties: [
    { name: 'name', type: STRING, required: true, unique: true },
    { name: 'mtu', type: STRING, default: 'auto' },
    readOnly('actual-mtu', { default: '1500' }),
    readOnly('l2mtu', { default: '65535' }),
    readOnly('mac-address', { default: '00:00:00:00:00:00' }),
    {
      name: 'protocol-mode',
      type: oneOf(['none', 'rstp', 'stp', 'mstp']),
      default: 'rstp',
      detailOnly: true,
    },
    { name: 'vlan-filtering', type: BOOL, default: 'false', detailOnly: true },
    {
      name: 'arp',
      type: oneOf(['disabled', 'enabled', 'local-proxy-arp', 'proxy-arp', 'reply-only']),
      default: 'enabled',
      detailOnly: true,
    },
    COMMENT,
    DISABLED,
    RUNNING,
  ],
});

/** The `/interface` menus. */
export function interfaceMenus(): MenuSpec[] {
  return [interfaces, ethernet, bridge];
}
