import { isDeepStrictEqual } from 'node:util';

import type { AgentConfig } from '../config/types.js';
import type { DeviceConfig } from '../devices/types.js';

/** Device ids added, removed and changed between two inventories. */
export type InventoryChange = { added: string[]; removed: string[]; changed: string[] };

/** Compares two inventories by device id. */
export function diffInventory(
  before: readonly DeviceConfig[],
  after: readonly DeviceConfig[],
): InventoryChange {
  const old = new Map(before.map((device) => [device.id, device]));
  const next = new Map(after.map((device) => [device.id, device]));
  const change: InventoryChange = { added: [], removed: [], changed: [] };

  for (const [id, device] of next) {
    const previous = old.get(id);
    if (previous === undefined) {
      change.added.push(id);
    } else if (!isDeepStrictEqual(previous, device)) {
      change.changed.push(id);
    }
  }

  for (const id of old.keys()) {
    if (!next.has(id)) {
      change.removed.push(id);
    }
  }

  return change;
}

/** Settings a reload does not apply; the agent takes them only at start. */
const RESTART_SETTINGS = ['siteId', 'controlPlane', 'runs', 'status', 'store', 'logLevel'] as const;

/** Names the settings other than `devices` that differ, which take effect only after a restart. */
export function settingsNeedingRestart(before: AgentConfig, after: AgentConfig): string[] {
  return RESTART_SETTINGS.filter((key) => !isDeepStrictEqual(before[key], after[key]));
}
