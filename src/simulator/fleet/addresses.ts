import { BlockList, isIP } from 'node:net';

import { AgentError } from '../../errors.js';

/** Devices that `--distinct-hosts` can address: 127.0.1.1 to 127.0.255.254. */
export const MAX_DISTINCT_HOSTS = 255 * 254;

/**
 * Returns the loopback address of the device at `index` (from 0) when each device gets its
 * own: 127.0.1.1, 127.0.1.2, ... 127.0.1.254, 127.0.2.1, ... Linux routes all of 127.0.0.0/8 to
 * the loopback interface, so no setup is needed there.
 */
export function distinctHost(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_DISTINCT_HOSTS) {
    throw new AgentError(
      'USAGE_INVALID',
      `device index ${index} has no distinct loopback address; at most ${MAX_DISTINCT_HOSTS} devices fit`,
      { details: { index } },
    );
  }

  return `127.0.${1 + Math.floor(index / 254)}.${1 + (index % 254)}`;
}

/**
 * Returns the port of the device at `index` for a service whose base port is `basePort`: 0
 * stays 0 (the kernel chooses), devices on distinct hosts share the base port, and devices on
 * one host count up from it.
 */
export function servicePort(basePort: number, index: number, distinctHosts: boolean): number {
  if (basePort === 0 || distinctHosts) {
    return basePort;
  }

  return basePort + index;
}

/**
 * Builds the `/ip service address=` check: a client is allowed when the list is empty or one
 * of its prefixes (`192.0.2.0/24`, `127.0.0.1`, `::1/128`) contains the client address.
 */
export function addressFilter(
  prefixes: readonly string[],
): ((address: string) => boolean) | undefined {
  if (prefixes.length === 0) {
    return undefined;
  }

  const list = new BlockList();
  for (const prefix of prefixes) {
    addPrefix(list, prefix);
  }

  return (address) => {
    const plain = address.replace(/^::ffff:/, '');
    const family = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    return list.check(plain, family);
  };
}

function addPrefix(list: BlockList, prefix: string): void {
  const [address = '', bitsText] = prefix.split('/');
  const version = isIP(address);
  const family = version === 6 ? 'ipv6' : 'ipv4';
  const maxBits = version === 6 ? 128 : 32;
  const bits = bitsText === undefined ? maxBits : Number(bitsText);

  if (version === 0 || !Number.isInteger(bits) || bits < 0 || bits > maxBits) {
    throw new AgentError(
      'CONFIG_INVALID',
      `invalid address prefix "${prefix}"; expected an address such as 192.0.2.0/24 or ::1`,
      { details: { prefix } },
    );
  }

  list.addSubnet(address, bits, family);
}
