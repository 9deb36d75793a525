import type { SeedValues } from '../menu-spec.js';

/**
 * The firewall filter rules of the RouterBOARD factory configuration (`defconf`), as RouterOS 7
 * home and office routers ship them.
 */
export const DEFAULT_FILTER_RULES: readonly SeedValues[] = [
  {
    chain: 'input',
    action: 'accept',
    'connection-state': 'established,related,untracked',
    comment: 'defconf: accept established,related,untracked',
  },
  {
    chain: 'input',
    action: 'drop',
    'connection-state': 'invalid',
    comment: 'defconf: drop invalid',
  },
  { chain: 'input', action: 'accept', protocol: 'icmp', comment: 'defconf: accept ICMP' },
  {
    chain: 'input',
    action: 'accept',
    'dst-address': '127.0.0.1',
    comment: 'defconf: accept to local loopback (for CAPsMAN)',
  },
  {
    chain: 'input',
    action: 'drop',
    'in-interface-list': '!LAN',
    comment: 'defconf: drop all not coming from LAN',
  },
  {
    chain: 'forward',
    action: 'accept',
    'ipsec-policy': 'in,ipsec',
    comment: 'defconf: accept in ipsec policy',
  },
  {
    chain: 'forward',
    action: 'accept',
    'ipsec-policy': 'out,ipsec',
    comment: 'defconf: accept out ipsec policy',
  },
  {
    chain: 'forward',
    action: 'fasttrack-connection',
    'connection-state': 'established,related',
    comment: 'defconf: fasttrack',
  },
  {
    chain: 'forward',
    action: 'accept',
    'connection-state': 'established,related,untracked',
    comment: 'defconf: accept established,related, untracked',
  },
  {
    chain: 'forward',
    action: 'drop',
    'connection-state': 'invalid',
    comment: 'defconf: drop invalid',
  },
  {
    chain: 'forward',
    action: 'drop',
    'connection-state': 'new',
    'connection-nat-state': '!dstnat',
    'in-interface-list': 'WAN',
    comment: 'defconf: drop all from WAN not DSTNATed',
  },
];

/** The NAT rule of the factory configuration. */
export const DEFAULT_NAT_RULES: readonly SeedValues[] = [
  {
    chain: 'srcnat',
    action: 'masquerade',
    'out-interface-list': 'WAN',
    'ipsec-policy': 'out,none',
    comment: 'defconf: masquerade',
  },
];
