import type { AgentConfig } from '../config/types.js';
import type { DeviceConfig } from '../devices/types.js';
import { AgentError } from '../errors.js';
import { PROTOCOL_VERSION } from '../protocol/limits.js';
import type { InventoryDevice } from '../protocol/messages.js';
import { AgentMetrics, countRunsFromOutbox } from '../status/metrics.js';
import { StatusServer } from '../status/server.js';
import type { StatusSource } from '../status/view.js';
import { startRetentionTimer } from '../store/retention-timer.js';
import { StatusQueries } from '../store/status-queries.js';
import type { Store } from '../store/store.js';
import type { UplinkClient } from '../uplink/client.js';
import type { UplinkStatus } from '../uplink/types.js';
import type { AgentCore, AgentParts, AgentRuntime, StartupSecrets } from './parts.js';
import { agentVersion } from './version.js';

/**
 * Starts the status endpoint, the scheduler, the uplink and the retention timer, pushing a
 * closer for each onto `closers` as it goes so that a failure can undo the steps before it.
 */
export async function startServices(
  core: AgentCore,
  runtime: AgentRuntime,
  secrets: StartupSecrets,
  closers: Array<() => unknown>,
): Promise<AgentParts> {
  const { config, clock, logger, store, scheduler, runner } = core;
  // The status source reads the uplink, which takes the metrics' observer, so it is late-bound.
  const link: { uplink?: UplinkClient } = {};
  const source = statusSource(core, runtime, () => link.uplink?.getStatus() ?? { ...IDLE_UPLINK });
  const metrics = new AgentMetrics(source, logger);
  const cleanups = [countRunsFromOutbox(source, metrics, logger)];
  closers.push(...cleanups);

  const status = await StatusServer.start({
    ...config.status.listen,
    ...(secrets.statusToken === undefined ? {} : { token: secrets.statusToken }),
    source,
    metrics,
    logger,
  });
  closers.push(() => status.close());
  // The agent is ready from here on. The uplink's modules load only now, so that their imports
  // do not delay the first /readyz response; prom-client loads on the first scrape of /metrics.

  // Runs start only once the status port is bound, so a port conflict fails the start before
  // any device is contacted.
  const recovery = scheduler.start();
  closers.push(() => runner.stop());
  const uplink = await createUplink(core, runtime, secrets, metrics);
  link.uplink = uplink;
  closers.push(() => uplink.stop());
  await uplink.start();
  cleanups.push(startRetentionTimer({ store, policy: config.store.retention, clock, logger }));

  logger.info(
    {
      version: agentVersion(),
      nodeVersion: process.version,
      protocol: PROTOCOL_VERSION,
      siteId: config.siteId,
      agentId: store.outbox.id,
      devices: config.devices.length,
      ...recovery,
      outboxDepth: store.outbox.depth(),
      statusUrl: status.url,
      controlPlaneUrl: config.controlPlane.url,
    },
    'agent started',
  );
  return { ...core, uplink, status, cleanups };
}

/** Builds what the status endpoint and the metrics read from the running agent. */
function statusSource(
  core: AgentCore,
  runtime: AgentRuntime,
  uplinkStatus: () => UplinkStatus,
): StatusSource {
  const { config, clock, store, runner } = core;
  return {
    siteId: config.siteId,
    version: agentVersion(),
    startedAt: clock.now(),
    clock,
    store,
    queries: new StatusQueries(store),
    devices: () => runtime.devices,
    uplink: uplinkStatus,
    runningRuns: () => runner.runningCount,
    configState: () => runtime.configState,
  };
}

/**
 * Loads the uplink's modules and creates the uplink without connecting it. Its intake stores
 * offers through the scheduler and rejects them with AGENT_STOPPING once the agent is stopping.
 */
async function createUplink(
  core: AgentCore,
  runtime: AgentRuntime,
  secrets: StartupSecrets,
  metrics: AgentMetrics,
): Promise<UplinkClient> {
  const { config, clock, logger, store, scheduler } = core;
  const { UplinkClient } = await import('../uplink/client.js');
  return new UplinkClient({
    ...uplinkSettings(config, secrets),
    agentVersion: agentVersion(),
    devices: () => helloDevices(runtime.devices, store),
    intake: async (job) => {
      if (runtime.stopping !== undefined) {
        throw new AgentError(
          'AGENT_STOPPING',
          `the agent is stopping, so job ${job.id} was not stored; the control plane offers it again after the restart`,
        );
      }

      return scheduler.accept(job);
    },
    cancel: async (jobId) => {
      scheduler.cancel(jobId);
    },
    outbox: store.outbox,
    outboxId: store.outbox.id,
    observer: metrics.uplinkObserver,
    clock,
    logger,
  });
}

/** The uplink's state before it is created. */
const IDLE_UPLINK: UplinkStatus = {
  state: 'idle',
  failedAttempts: 0,
  unacknowledged: 0,
  acknowledgedSeq: 0,
};

/** Returns the uplink options that come straight from the configuration and the secrets. */
function uplinkSettings(config: AgentConfig, secrets: StartupSecrets) {
  const { controlPlane } = config;
  return {
    url: controlPlane.url,
    token: secrets.siteToken,
    siteId: config.siteId,
    keys: [secrets.signingKey],
    allowInsecure: controlPlane.allowInsecure,
    ...(controlPlane.caFile === undefined ? {} : { caFile: controlPlane.caFile }),
    ...(controlPlane.fingerprint === undefined ? {} : { fingerprint: controlPlane.fingerprint }),
  };
}

/** Returns the inventory as `hello` lists it, with the RouterOS version of each device's last login. */
function helloDevices(devices: readonly DeviceConfig[], store: Store): InventoryDevice[] {
  return devices.map((device) => {
    const facts = store.devices.facts(device.id);
    const entry: InventoryDevice = {
      id: device.id,
      name: device.name,
      transport: device.transport,
    };
    if (facts !== undefined) {
      entry.routerosVersion = facts.version.slice(0, 64);
    }

    return entry;
  });
}
