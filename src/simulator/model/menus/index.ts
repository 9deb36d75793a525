import { type CommandSignature, signature } from '../../script/catalog.js';
import type { MenuSpec } from '../menu-spec.js';
import type { RouterOsVersion } from '../types.js';
import { interfaceMenus } from './interface.js';
import { ipMenus } from './ip.js';
import { miscMenus } from './misc.js';
import { systemMenus } from './system.js';

const EXPORT_SIGNATURE = signature({
  named: ['file'],
  flags: ['terse', 'compact', 'verbose', 'hide-sensitive', 'show-sensitive'],
});

/** Commands that sit on a menu with no items of its own, such as `/ping` and `/system reboot`. */
export const DIRECTORY_COMMANDS: ReadonlyMap<
  string,
  ReadonlyMap<string, CommandSignature>
> = new Map([
  [
    '',
    new Map([
      ['export', EXPORT_SIGNATURE],
      [
        'ping',
        signature({
          positional: ['address'],
          named: ['address', 'count', 'interval', 'size', 'interface', 'src-address'],
        }),
      ],
    ]),
  ],
  ['system', new Map([['reboot', signature({})]])],
]);

export { EXPORT_SIGNATURE };

const cache = new Map<string, readonly MenuSpec[]>();

/**
 * Every menu of a RouterOS version. Specs depend only on the major version, so devices of the
 * same major version share one immutable list.
 */
export function menusFor(version: RouterOsVersion): readonly MenuSpec[] {
  const key = String(version.major);
  let menus = cache.get(key);
  if (menus === undefined) {
    menus = [
      ...systemMenus(version),
      ...ipMenus(version),
      ...interfaceMenus(),
      ...miscMenus(version),
    ];
    cache.set(key, menus);
  }

  return menus;
}
