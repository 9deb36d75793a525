import type { FaultName } from '../../src/simulator/fleet/faults.js';
import type { SmallDisk } from './chaos-disk.js';
import { type ChaosFleet, SWITCHED_FAULTS } from './chaos-fleet.js';
import { sleep } from './chaos-program.js';
import type { SeededRandom } from './chaos-random.js';
import type { ChaosSite } from './chaos-site.js';

/** The faults the loop injects, each chosen with the weight beside it. */
const ACTIONS = [
  ['agent-kill', 3],
  ['agent-term', 3],
  ['agent-double-term', 1],
  ['agent-term-then-kill', 1],
  ['agent-start-interrupted', 2],
  ['agent-freeze', 1],
  ['agent-hup', 1],
  ['control-plane-restart', 2],
  ['control-plane-freeze', 1],
  ['device-reboot', 4],
  ['device-disconnect', 3],
  ['device-reboot-on-command', 2],
  ['device-fault', 3],
  ['disk-full', 2],
  ['site-power-loss', 1],
] as const;

export type FaultAction = (typeof ACTIONS)[number][0];

/** Number of times the loop injected each fault, for the summary. */
export type FaultTally = Record<FaultAction, number>;

/**
 * A fault that lasts a while, with the timer that ends it. The timer runs apart from the loop,
 * because an action of the loop may wait for the fault to end, such as an agent start on a full
 * disk.
 */
type ActiveFault = { timer: NodeJS.Timeout; end: () => Promise<unknown> };

/**
 * Injects faults at random moments, 2 to 12 seconds apart, until `until` (milliseconds since
 * the epoch). It kills, stops, freezes and restarts the agent, restarts and freezes the control
 * plane, reboots and disconnects devices and switches device faults on for a while. Given a
 * disk, it also fills the agent's file system for a while. It leaves the site whole: the agent and the control plane
 * running, every switched fault off and the disk free.
 */
export class FaultLoop {
  readonly tally = Object.fromEntries(ACTIONS.map(([name]) => [name, 0])) as FaultTally;

  private readonly site: ChaosSite;

  private readonly fleet: ChaosFleet;

  private readonly random: SeededRandom;

  private readonly log: (line: string) => void;

  /** The tmpfs under the agent's store; without it the loop never fills the disk. */
  private readonly disk: SmallDisk | undefined;

  private readonly actions: ReadonlyArray<readonly [FaultAction, number]>;

  /** Faults that last a while, by label; each leaves when it ends. */
  private readonly active = new Map<string, ActiveFault>();

  /** Ends of faults in progress; `run` waits for them before it returns. */
  private readonly ending = new Set<Promise<void>>();

  constructor(options: {
    site: ChaosSite;
    fleet: ChaosFleet;
    random: SeededRandom;
    log: (line: string) => void;
    disk?: SmallDisk;
  }) {
    this.site = options.site;
    this.fleet = options.fleet;
    this.random = options.random;
    this.log = options.log;
    this.disk = options.disk;
    this.actions = ACTIONS.filter(([name]) => name !== 'disk-full' || this.disk !== undefined);
  }

  async run(until: number): Promise<void> {
    while (Date.now() < until) {
      await sleep(this.random.integer(2_000, 12_000));
      if (Date.now() >= until) {
        break;
      }

      const action = this.random.weighted(this.actions);
      this.tally[action] += 1;
      await this.perform(action);
    }

    for (const label of [...this.active.keys()]) {
      this.endFault(label);
    }

    await Promise.all(this.ending);
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
      case 'agent-start-interrupted': {
        const signal = this.random.pick(['SIGTERM', 'SIGKILL'] as const);
        const afterMs = this.random.integer(0, 1_500);
        const code = await this.site.interruptStart(signal, afterMs);
        this.log(`agent: ${signal} ${afterMs} ms after its spawn, exit ${code}`);
        return;
      }
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
        return this.site.controlPlane.restart(signal, downMs);
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
      case 'disk-full':
        return this.fillDisk(this.random.integer(3_000, 30_000));
      case 'site-power-loss':
        return this.powerLoss();
    }
  }

  private async restartAgent(signal: NodeJS.Signals, downMs: number): Promise<void> {
    const code = await this.site.stopAgent(signal);
    this.log(`agent: ${signal}, exit ${code}, down ${downMs} ms`);
    await sleep(downMs);
    await this.site.ensureAgent();
  }

  /**
   * Cuts the power of the whole site: the agent is killed and every device reboots at once,
   * each staying down 1 to 8 seconds. The agent's box comes back after 2 to 10 seconds.
   */
  private async powerLoss(): Promise<void> {
    const agentDownMs = this.random.integer(2_000, 10_000);
    const reboots = this.fleet.deviceIds.map((deviceId) =>
      this.fleet.reboot(deviceId, this.random.integer(1_000, 8_000)),
    );
    await Promise.all([this.site.stopAgent('SIGKILL'), ...reboots]);
    this.log(`site power loss: every device rebooted, agent down ${agentDownMs} ms`);
    await sleep(agentDownMs);
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
    const program = which === 'agent' ? this.site.agent : this.site.controlPlane.program;
    this.log(`${which}: frozen for ${forMs} ms`);
    program?.signal('SIGSTOP');
    await sleep(forMs);
    program?.signal('SIGCONT');
  }

  private async switchOn(deviceId: string, fault: FaultName): Promise<void> {
    const label = `${deviceId}: ${fault}`;
    if (this.active.has(label)) {
      return;
    }

    const forMs = this.random.integer(5_000, 40_000);
    this.log(`${label} on for ${forMs} ms`);
    await this.fleet.setFault(deviceId, fault, true);
    this.keep(label, forMs, () => this.fleet.setFault(deviceId, fault, false));
  }

  /** Fills the file system of the agent's store for `forMs`. */
  private async fillDisk(forMs: number): Promise<void> {
    const disk = this.disk;
    if (disk === undefined || this.active.has('disk full')) {
      return;
    }

    const bytes = await disk.fill();
    this.site.diskFull = true;
    this.log(`disk full for ${forMs} ms (${bytes} bytes of filler)`);
    this.keep('disk full', forMs, async () => {
      await disk.free();
      this.site.diskFull = false;
    });
  }

  /** Records a fault that `end` ends after `forMs`. */
  private keep(label: string, forMs: number, end: () => Promise<unknown>): void {
    const timer = setTimeout(() => this.endFault(label), forMs);
    this.active.set(label, { timer, end });
  }

  private endFault(label: string): void {
    const fault = this.active.get(label);
    if (fault === undefined) {
      return;
    }

    this.active.delete(label);
    clearTimeout(fault.timer);
    this.log(`${label} over`);
    const ended = fault.end().then(
      () => undefined,
      (error: unknown) => this.log(`ending ${label} failed: ${error}`),
    );
    this.ending.add(ended);
    void ended.finally(() => this.ending.delete(ended));
  }
}
