import type { FaultName } from '../../src/simulator/fleet/faults.js';
import { type ChaosFleet, SWITCHED_FAULTS } from './chaos-fleet.js';
import type { SeededRandom } from './chaos-random.js';
import { type ChaosSite, sleep } from './chaos-site.js';

/** The faults the loop injects, each chosen with the weight beside it. */
const ACTIONS = [
  ['agent-kill', 3],
  ['agent-term', 3],
  ['agent-double-term', 1],
  ['agent-term-then-kill', 1],
  ['agent-freeze', 1],
  ['agent-hup', 1],
  ['control-plane-restart', 2],
  ['control-plane-freeze', 1],
  ['device-reboot', 4],
  ['device-disconnect', 3],
  ['device-reboot-on-command', 2],
  ['device-fault', 3],
] as const;

export type FaultAction = (typeof ACTIONS)[number][0];

/** Number of times the loop injected each fault, for the summary. */
export type FaultTally = Record<FaultAction, number>;

/** A switched fault that is on, and when the loop switches it off again. */
type ActiveFault = { deviceId: string; fault: FaultName; until: number };

/**
 * Injects faults at random moments, 2 to 12 seconds apart, until `until` (milliseconds since
 * the epoch): kills, stops and restarts the agent, restarts the control plane, reboots and
 * disconnects devices and switches device faults on for a while. It leaves the site whole: the
 * agent and the control plane running and every switched fault off.
 */
export class FaultLoop {
  readonly tally = Object.fromEntries(ACTIONS.map(([name]) => [name, 0])) as FaultTally;

  private readonly site: ChaosSite;

  private readonly fleet: ChaosFleet;

  private readonly random: SeededRandom;

  private readonly log: (line: string) => void;

  private active: ActiveFault[] = [];

  constructor(
    site: ChaosSite,
    fleet: ChaosFleet,
    random: SeededRandom,
    log: (line: string) => void,
  ) {
    this.site = site;
    this.fleet = fleet;
    this.random = random;
    this.log = log;
  }

  async run(until: number): Promise<void> {
    while (Date.now() < until) {
      await sleep(this.random.integer(2_000, 12_000));
      await this.switchOffExpired(Date.now());
      if (Date.now() >= until) {
        break;
      }

      const action = this.random.weighted(ACTIONS);
      this.tally[action] += 1;
      await this.perform(action);
    }

    await this.switchOffExpired(Number.POSITIVE_INFINITY);
    await this.site.ensureAgent();
  }

  private async perform(action: FaultAction): Promise<void> {
    const deviceId = this.random.pick(this.fleet.deviceIds);
    switch (action) {
      case 'agent-kill':
        return this.restartAgent('SIGKILL', this.random.integer(0, 5_000));
      case 'agent-term':
        return this.restartAgent('SIGTERM', this.random.integer(0, 3_000));
      case 'agent-double-term':
        return this.doubleTerm(this.random.integer(50, 1_500));
      case 'agent-term-then-kill':
        return this.termThenKill(this.random.integer(100, 3_000));
      case 'agent-freeze':
        return this.freeze('agent', this.random.integer(2_000, 20_000));
      case 'agent-hup':
        this.log('agent: SIGHUP');
        this.site.agent?.signal('SIGHUP');
        return;
      case 'control-plane-restart': {
        const signal = this.random.pick(['SIGTERM', 'SIGKILL'] as const);
        const downMs = this.random.integer(0, 8_000);
        this.log(`control plane: ${signal}, down ${downMs} ms`);
        return this.site.restartControlPlane(signal, downMs);
      }
      case 'control-plane-freeze':
        return this.freeze('control plane', this.random.integer(2_000, 20_000));
      case 'device-reboot': {
        const delayMs = this.random.integer(1_000, 6_000);
        this.log(`${deviceId}: reboot, down ${delayMs} ms`);
        await this.fleet.reboot(deviceId, delayMs);
        return;
      }
      case 'device-disconnect': {
        const downMs = this.random.integer(1_000, 10_000);
        this.log(`${deviceId}: disconnect, down ${downMs} ms`);
        await this.fleet.disconnect(deviceId, downMs);
        return;
      }
      case 'device-reboot-on-command':
        this.log(`${deviceId}: reboot on its next command`);
        await this.fleet.setFault(deviceId, 'reboot', true);
        return;
      case 'device-fault':
        return this.switchOn(deviceId, this.random.pick(SWITCHED_FAULTS));
    }
  }

  private async restartAgent(signal: NodeJS.Signals, downMs: number): Promise<void> {
    const code = await this.site.stopAgent(signal);
    this.log(`agent: ${signal}, exit ${code}, down ${downMs} ms`);
    await sleep(downMs);
    await this.site.ensureAgent();
  }

  /** SIGTERM, then a second SIGTERM during the stop, which ends the agent at once (143). */
  private async doubleTerm(gapMs: number): Promise<void> {
    const code = await this.site.stopAgent('SIGTERM', {
      expected: [0, 143],
      followUp: { signal: 'SIGTERM', afterMs: gapMs },
    });
    this.log(`agent: SIGTERM twice ${gapMs} ms apart, exit ${code}`);
    await this.site.ensureAgent();
  }

  /** SIGTERM, then SIGKILL before the stop ends, as a service manager's stop timeout does. */
  private async termThenKill(gapMs: number): Promise<void> {
    const code = await this.site.stopAgent('SIGTERM', {
      expected: [0, 'SIGKILL'],
      followUp: { signal: 'SIGKILL', afterMs: gapMs },
    });
    this.log(`agent: SIGTERM, SIGKILL ${gapMs} ms later, exit ${code}`);
    await this.site.ensureAgent();
  }

  /** Stops a process with SIGSTOP for `forMs`, then lets it go on with SIGCONT. */
  private async freeze(which: 'agent' | 'control plane', forMs: number): Promise<void> {
    const program = which === 'agent' ? this.site.agent : this.site.controlPlane;
    this.log(`${which}: frozen for ${forMs} ms`);
    program?.signal('SIGSTOP');
    await sleep(forMs);
    program?.signal('SIGCONT');
  }

  private async switchOn(deviceId: string, fault: FaultName): Promise<void> {
    if (this.active.some((item) => item.deviceId === deviceId && item.fault === fault)) {
      return;
    }

    const forMs = this.random.integer(5_000, 40_000);
    this.log(`${deviceId}: ${fault} on for ${forMs} ms`);
    await this.fleet.setFault(deviceId, fault, true);
    this.active.push({ deviceId, fault, until: Date.now() + forMs });
  }

  private async switchOffExpired(now: number): Promise<void> {
    const expired = this.active.filter((item) => item.until <= now);
    this.active = this.active.filter((item) => item.until > now);
    for (const { deviceId, fault } of expired) {
      this.log(`${deviceId}: ${fault} off`);
      await this.fleet.setFault(deviceId, fault, false);
    }
  }
}
