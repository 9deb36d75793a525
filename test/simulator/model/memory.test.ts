import { expect, test } from 'vitest';
import { RouterOsDevice } from '../../../src/simulator/model/device.js';

/**
 * A fleet process serves 1,000 devices, so an idle device must stay small: menu specs and the
 * command catalog are shared and menus are seeded on first use. An idle device measured about
 * 2.5 KB of heap on Node 20 (x86_64), and 4 KB after a script that touched the firewall; the
 * bound leaves wide margin yet fails if each device built its own catalog or seeded its menus.
 */
const BYTES_PER_DEVICE_LIMIT = 200 * 1024;

test('1000 idle devices stay small', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const devices: RouterOsDevice[] = [];
  for (let i = 0; i < 1000; i += 1) {
    const version = i % 2 === 0 ? '7.18.2' : '6.49.10';
    devices.push(new RouterOsDevice({ version, identity: `site-${i}`, seed: `seed-${i}` }));
  }

  gc?.();
  const perDevice = (process.memoryUsage().heapUsed - before) / devices.length;
  expect(devices).toHaveLength(1000);
  expect(perDevice).toBeLessThan(BYTES_PER_DEVICE_LIMIT);
});
