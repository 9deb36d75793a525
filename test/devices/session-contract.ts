import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { openSession } from '../../src/devices/open-session.js';
import type { DeviceConfig, DeviceSession, SessionContext } from '../../src/devices/types.js';
import type { FaultName } from '../../src/simulator/fleet/faults.js';
import { type Fleet, startFleet } from '../../src/simulator/fleet/fleet.js';
import type { ApiRow, SimulatedDevice } from '../../src/simulator/model/types.js';
import {
  ACCESS_MODES,
  deviceConfigFor,
  matrixFleetEntries,
  resetFleet,
  sessionContextFor,
  temporaryTrustStore,
} from '../support/device-fleet.js';
import { rejectedError } from '../support/errors.js';
import { closedPort } from '../support/ports.js';

/** A script whose text is over 64 KiB: comment lines, then one line of output. */
const LONG_SCRIPT = `${`# ${'x'.repeat(60)}\r\n`.repeat(1200)}:put "long done"`;

/** Fingerprints of keys that no simulated device has. */
const OTHER_HOST_KEY = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const OTHER_FINGERPRINT = '00'.repeat(32);

/** A certificate fingerprint as the agent shows it: upper-case hex pairs joined by colons. */
const COLON_HEX_FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;

/** Faults switched on after login, and the code the next run must end with. */
const RUN_FAULTS: ReadonlyArray<[FaultName, string]> = [
  ['hang', 'TIMEOUT'],
  ['fatal', 'CONNECTION_LOST'],
  ['close-mid-reply', 'CONNECTION_LOST'],
  ['reboot', 'CONNECTION_LOST'],
];

/** Names of the device's `/system script` items, read from its model directly. */
async function scriptNames(model: SimulatedDevice): Promise<string[]> {
  const rows: ApiRow[] = [];
  await model.execute(
    { path: ['system', 'script'], command: 'print', attributes: [], queries: [] },
    { signal: new AbortController().signal, onRow: (row) => rows.push(row) },
  );
  return rows.map((row) => row.find(([name]) => name === 'name')?.[1] ?? '');
}

/**
 * The transport contract against the simulator for one RouterOS version, over every way of
 * access: API, API-SSL with a certificate, API-SSL anonymous, and SSH. Each version has its own
 * test file, so that the versions run in parallel.
 */
export function describeSessionContract(version: string): void {
  let fleet: Fleet;
  let trust: Awaited<ReturnType<typeof temporaryTrustStore>>;

  beforeAll(async () => {
    fleet = await startFleet({ fleet: matrixFleetEntries([version]) });
    trust = await temporaryTrustStore();
  });

  afterAll(async () => {
    await fleet.close();
    await trust.remove();
  });

  afterEach(async () => {
    await resetFleet(fleet.devices);
  });

  describe.each(ACCESS_MODES.map((mode) => ({ version, mode })))(
    'RouterOS $version over $mode.name',
    ({ version, mode }) => {
      let config: DeviceConfig;
      let context: SessionContext;
      let session: DeviceSession;

      const open = async (
        overrides: Partial<DeviceConfig> = {},
        contextOverrides: Partial<SessionContext> = {},
      ): Promise<DeviceSession> => {
        const opened = await openSession(
          { ...config, ...overrides },
          { ...context, ...contextOverrides },
        );
        cleanups.push(() => opened.close());
        return opened;
      };
      const cleanups: Array<() => unknown> = [];

      beforeAll(async () => {
        config = deviceConfigFor(fleet, version, mode).config;
        context = await sessionContextFor(config, trust.store);
        session = await openSession(config, context);
      });

      afterAll(async () => {
        await session.close();
      });

      afterEach(async () => {
        for (const cleanup of cleanups.splice(0).reverse()) {
          await cleanup();
        }
      });

      it('identifies the device', () => {
        expect(session.facts.version.startsWith(version)).toBe(true);
        expect(session.facts.identity).toBe(config.id);
        expect(session.facts.board).not.toBe('');
      });

      it('runs a script', async () => {
        const result = await session.run(':put "one"\r\n:put (1 + 2)', { timeoutMs: 5000 });
        expect(result.status).toBe('succeeded');
        expect(result.output).toBe('one\r\n3\r\n');
        expect(result.outputCaptured).toBe(true);
      });

      it('reports a syntax error position', async () => {
        const result = await session.run(':put "a"\n:put (', { timeoutMs: 5000 });
        expect(result.error?.code).toBe('SCRIPT_SYNTAX_ERROR');
        expect(result.error?.line).toBe(2);
        expect(result.error?.column).toBe(7);
      });

      it('reports a bad command name', async () => {
        const result = await session.run(':put "a"\n/nonsense', { timeoutMs: 5000 });
        expect(result.error?.code).toBe('SCRIPT_SYNTAX_ERROR');
        expect(result.error?.line).toBe(2);
      });

      it('reports a runtime error', async () => {
        const result = await session.run('/ip address add address=nonsense interface=ether1', {
          timeoutMs: 5000,
        });
        expect(result.status).toBe('failed');
        expect(result.error?.code).toBe('SCRIPT_FAILED');
      });

      it('reports a script :error', async () => {
        const result = await session.run(':put "before"\r\n:error "stopped on purpose"', {
          timeoutMs: 5000,
        });
        expect(result.status).toBe('failed');
        expect(result.error?.code).toBe('SCRIPT_FAILED');
      });

      it('rejects unencodable text unsent', async () => {
        const { device } = deviceConfigFor(fleet, version, mode);
        const before = device.model.executions;
        const result = await session.run(':put "ok"\n:put "ж"', { timeoutMs: 5000 });
        expect(result.error?.code).toBe('ENCODING_ERROR');
        expect(result.error?.line).toBe(2);
        expect(result.error?.column).toBe(7);
        expect(device.model.executions).toBe(before);
      });

      if (mode.transport === 'ssh') {
        it('rejects a script over 64 KiB unsent', async () => {
          const { device } = deviceConfigFor(fleet, version, mode);
          const before = device.model.executions;
          const result = await session.run(LONG_SCRIPT, { timeoutMs: 10_000 });
          expect(result.error?.code).toBe('UNSUPPORTED');
          expect(device.model.executions).toBe(before);
        });
      } else {
        it('runs a script over 64 KiB', async () => {
          const result = await session.run(LONG_SCRIPT, { timeoutMs: 10_000 });
          expect(result.status).toBe('succeeded');
          expect(result.output).toBe('long done\r\n');
        });
      }

      it('exports the configuration', async () => {
        const exported = await session.exportConfig({ timeoutMs: 5000 });
        expect(exported).toContain(`set name=${config.id}`);
      });

      it('times out a long script', async () => {
        const own = await open();
        const result = await own.run(':delay 5s; :put "late"', { timeoutMs: 300 });
        expect(result.error?.code).toBe('TIMEOUT');
        const next = await own.run(':put "next"', { timeoutMs: 5000 });
        expect(next.output).toBe('next\r\n');
      });

      it('cancels a running script', async () => {
        const own = await open();
        const controller = new AbortController();
        const marker = `late-${version.replaceAll('.', '-')}-${mode.transport}`;
        const running = own.run(`:delay 1s\r\n/system script add name=${marker}`, {
          timeoutMs: 10_000,
          signal: controller.signal,
        });
        setTimeout(() => controller.abort(), 200);
        const result = await running;
        expect(result.error?.code).toBe('CANCELLED');
        if (mode.transport === 'ssh') {
          // The simulator's SSH server never sees the channel close while a script runs, so it
          // cannot stop it; test/devices/ssh/openssh.test.ts checks the stop against OpenSSH.
          return;
        }

        // The script would have added the item 1 s in; cancelling stopped it on the device.
        await new Promise((resolve) => setTimeout(resolve, 1200));
        const { device } = deviceConfigFor(fleet, version, mode);
        expect(await scriptNames(device.model)).not.toContain(marker);
      });

      it('reports a wrong password', async () => {
        const failure = open({}, { credentials: { password: 'wrong password' } });
        expect((await rejectedError(failure)).code).toBe('AUTH_FAILED');
      });

      it('reports a refused port', async () => {
        const port = await closedPort();
        const failure = open({ ports: { api: port, apiSsl: port, ssh: port } });
        expect((await rejectedError(failure)).code).toBe('DEVICE_UNREACHABLE');
      });

      it('reports a silent device', async () => {
        deviceConfigFor(fleet, version, mode).device.faults.enable('silent');
        const failure = open({}, { connectTimeoutMs: 300 });
        expect((await rejectedError(failure)).code).toBe('DEVICE_UNREACHABLE');
      });

      it('reports the auth-fail fault', async () => {
        deviceConfigFor(fleet, version, mode).device.faults.enable('auth-fail');
        expect((await rejectedError(open())).code).toBe('AUTH_FAILED');
      });

      it('runs under the fragment fault', async () => {
        deviceConfigFor(fleet, version, mode).device.faults.enable('fragment');
        const own = await open();
        const result = await own.run(':put "pieces"', { timeoutMs: 10_000 });
        expect(result.output).toBe('pieces\r\n');
      });

      if (mode.transport === 'ssh') {
        // The simulator's SSH server reads exec commands as UTF-8 and so cannot carry other code
        // pages byte-exact; test/devices/ssh/openssh.test.ts proves it against OpenSSH instead.
        it('rejects a configured host key mismatch', async () => {
          const failure = open({ ssh: { loginOptions: 'ct', hostKey: OTHER_HOST_KEY } });
          expect((await rejectedError(failure)).code).toBe('HOST_KEY_MISMATCH');
        });

        it('rejects a changed pinned host key', async () => {
          const pins = await temporaryTrustStore();
          cleanups.push(() => pins.remove());
          pins.store.pin(config.id, 'ssh-host-key', OTHER_HOST_KEY);
          const failure = open({ ssh: { loginOptions: 'ct' } }, { trust: pins.store });
          expect((await rejectedError(failure)).code).toBe('HOST_KEY_MISMATCH');
        });

        it('pins the host key on first use', async () => {
          const pins = await temporaryTrustStore();
          cleanups.push(() => pins.remove());
          await open({ ssh: { loginOptions: 'ct' } }, { trust: pins.store });
          expect(pins.store.get(config.id, 'ssh-host-key')).toBe(config.ssh.hostKey);
        });
      } else {
        it('stores ö byte-exact', async () => {
          const { device } = deviceConfigFor(fleet, version, mode);
          const result = await session.run('/system identity set name="ö"', { timeoutMs: 5000 });
          const stored = device.model.identity;
          await session.run(`/system identity set name=${config.id}`, { timeoutMs: 5000 });
          expect(result.error).toBeUndefined();
          expect(stored).toBe('\xf6');
        });

        it('reads € back byte-exact', async () => {
          const result = await session.run(':put "€ 100"', { timeoutMs: 5000 });
          expect(result.output).toBe('€ 100\r\n');
        });
      }

      if (mode.transport === 'api-ssl' && mode.tlsMode === 'certificate') {
        it('pins the certificate on first use', async () => {
          const pins = await temporaryTrustStore();
          cleanups.push(() => pins.remove());
          await open({ tls: { mode: 'certificate' } }, { trust: pins.store });
          const pinned = pins.store.get(config.id, 'tls-certificate')?.replaceAll(':', '');
          expect(pinned?.toLowerCase()).toBe(config.tls.fingerprint);
        });

        it('rejects a changed pinned certificate', async () => {
          const pins = await temporaryTrustStore();
          cleanups.push(() => pins.remove());
          pins.store.pin(config.id, 'tls-certificate', OTHER_FINGERPRINT);
          const failure = open({ tls: { mode: 'certificate' } }, { trust: pins.store });
          expect((await rejectedError(failure)).code).toBe('TLS_FAILED');
        });

        it('rejects a wrong configured fingerprint', async () => {
          const failure = open({ tls: { mode: 'certificate', fingerprint: OTHER_FINGERPRINT } });
          const error = await rejectedError(failure);
          const { expected, presented } = error.details as { expected: string; presented: string };

          expect(error.code).toBe('TLS_FAILED');
          // Both in the colon form, though the configuration gave bare lower-case hex.
          expect(expected).toMatch(COLON_HEX_FINGERPRINT);
          expect(presented).toMatch(COLON_HEX_FINGERPRINT);
        });
      }

      if (mode.transport === 'api-ssl' && mode.tlsMode === 'anonymous') {
        it('rejects certificate mode without a certificate', async () => {
          const failure = open({ tls: { mode: 'certificate' } });
          expect((await rejectedError(failure)).code).toBe('TLS_FAILED');
        });
      }

      if (mode.transport !== 'ssh' && version.startsWith('6.')) {
        it('reports an export too large for the API', async () => {
          const padding = `/system script add name=padding source=":put \\"${'x'.repeat(5000)}\\""`;
          await session.run(padding, { timeoutMs: 5000 });
          const failure = session.exportConfig({ timeoutMs: 5000 });
          const error = await rejectedError(failure);
          await session.run('/system script remove [find name=padding]', { timeoutMs: 5000 });
          expect(error.code).toBe('UNSUPPORTED');
        });

        it('reports output too large to capture', async () => {
          const result = await session.run(':for i from=1 to=300 do={ :put "line $i of many" }', {
            timeoutMs: 10_000,
          });
          expect(result.status).toBe('succeeded');
          expect(result.outputCaptured).toBe(false);
        });

        it('fails a large-output script without its error', async () => {
          const result = await session.run(
            ':for i from=1 to=300 do={ :put "line $i of many" }\r\n:error "stopped"',
            { timeoutMs: 10_000 },
          );
          expect(result.error?.code).toBe('SCRIPT_FAILED');
          expect(result.outputCaptured).toBe(false);
        });
      }

      for (const [fault, code] of RUN_FAULTS) {
        it(`reports the ${fault} fault as ${code}`, async () => {
          const own = await open({}, { commandTimeoutMs: 400 });
          deviceConfigFor(fleet, version, mode).device.faults.enable(fault);
          const result = await own.run(':put "x"', { timeoutMs: 400 });
          expect(result.error?.code).toBe(code);
        });
      }
    },
  );
}
