import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import type { FleetOptions } from '../../src/simulator/fleet/options.js';
import { RawApiClient } from './api-client.js';

/**
 * Starts fleets for the tests of one file with one state directory, so host keys and the
 * certificate are generated once, and closes every fleet and client it made.
 */
export class FleetFixture {
  /** Created on the first start and removed by `dispose`. */
  private stateDir: string | undefined;

  /** Clean-up steps in creation order, run backwards by `cleanup`. */
  private readonly cleanups: Array<() => unknown> = [];

  async start(options: FleetOptions = {}): Promise<Fleet> {
    this.stateDir ??= await mkdtemp(join(tmpdir(), 'sim-fleet-'));
    const fleet = await startFleet({ stateDir: this.stateDir, ...options });
    this.cleanups.push(() => fleet.close());
    return fleet;
  }

  /** Connects to a device's API (or API-SSL with `tls`) without logging in. */
  async connect(port: number, tls?: Parameters<typeof RawApiClient.connect>[2]) {
    const client = await RawApiClient.connect(port, '127.0.0.1', tls);
    this.cleanups.push(() => client.close());
    return client;
  }

  /** Connects to the API of device `index` and logs in. */
  async login(fleet: Fleet, index = 0): Promise<RawApiClient> {
    const device = fleet.inventory()[index];
    const client = await this.connect(device?.ports.api ?? 0);
    const replies = await client.call([
      '/login',
      `=name=${device?.username ?? ''}`,
      `=password=${await passwordOf(fleet, index)}`,
    ]);
    if (replies[0]?.[0] !== '!done') {
      throw new Error(`login failed: ${JSON.stringify(replies)}`);
    }

    return client;
  }

  /** Registers one more clean-up step. */
  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  /** Closes every client and fleet started since the last call; for `afterEach`. */
  async cleanup(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      await cleanup();
    }
  }

  /** Removes the state directory; for `afterAll`. */
  async dispose(): Promise<void> {
    await this.cleanup();
    if (this.stateDir !== undefined) {
      await rm(this.stateDir, { recursive: true, force: true });
    }
  }
}

/** Reads the password of device `index` from the file its inventory entry names. */
export async function passwordOf(fleet: Fleet, index = 0): Promise<string> {
  const file = fleet.inventory()[index]?.passwordFile ?? '';
  return (await readFile(file, 'latin1')).replace(/\n$/, '');
}
