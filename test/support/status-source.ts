import type { Clock } from '../../src/clock.js';
import type { StatusSource } from '../../src/status/view.js';
import { StatusQueries } from '../../src/store/status-queries.js';
import type { Store } from '../../src/store/store.js';
import type { UplinkStatus } from '../../src/uplink/types.js';

/** The link state of an uplink that never started. */
const IDLE_UPLINK: UplinkStatus = {
  state: 'idle',
  failedAttempts: 0,
  unacknowledged: 0,
  acknowledgedSeq: 0,
};

/**
 * Returns what the status endpoint and the metrics read, for an agent with no devices and no
 * running run. `uplink` supplies the link state, which is idle when it is omitted.
 */
export function testStatusSource(
  store: Store,
  clock: Clock,
  uplink: () => UplinkStatus = () => IDLE_UPLINK,
): StatusSource {
  return {
    siteId: '6f1d2c1e-8a4b-4c55-9d3e-2b7f0a9c1d42',
    version: '0.1.0',
    startedAt: clock.now(),
    clock,
    store,
    queries: new StatusQueries(store),
    devices: () => [],
    uplink,
    runningRuns: () => 0,
    configState: () => ({ file: '/etc/edge-agent/config.yaml', loadedAt: clock.now() }),
  };
}
