import { AgentError } from '../../errors.js';

/**
 * Faults a simulated device can be set to show, on every transport it serves. Latency is not
 * in this list because it is a number (`latencyMs`), not an on/off switch.
 */
export const FAULT_NAMES = [
  'silent',
  'close-mid-reply',
  'fragment',
  'hang',
  'fatal',
  'auth-fail',
  'reboot',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

/** One line of help per fault, for `routeros-sim --help` and the fleet file documentation. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultName, string>> = {
  silent:
    'accept TCP connections and never send a byte (no API reply, no TLS handshake, no SSH ident)',
  'close-mid-reply':
    'close the connection half way through the reply to the first command after login (SSH: half way through the exec output)',
  fragment: 'write every reply in small chunks with pauses between them',
  hang: 'never finish any command after login (SSH: exec never prints or exits) until cancelled or disconnected',
  fatal:
    'answer the first command after login with !fatal and close the connection (SSH: disconnect)',
  'auth-fail': 'reject every login, whatever the credentials',
  reboot:
    'reboot on the first command after login: close without a reply, stay down for the reboot delay, then come back; fires once',
};

/** Tunable numbers of the faults. */
export type FaultSettings = {
  /** Delay before each reply sentence or output write, in milliseconds. Default 0. */
  latencyMs: number;
  /** Size of each chunk under the `fragment` fault, in bytes. Default 3. */
  fragmentBytes: number;
  /** Pause between chunks under the `fragment` fault, in milliseconds. Default 2. */
  fragmentPauseMs: number;
  /** How long a rebooting device stays unreachable, in milliseconds. Default 2000. */
  rebootDelayMs: number;
  /** Reason word sent with `!fatal` under the `fatal` fault. */
  fatalMessage: string;
};

export const DEFAULT_FAULT_SETTINGS: Readonly<FaultSettings> = {
  latencyMs: 0,
  fragmentBytes: 3,
  fragmentPauseMs: 2,
  rebootDelayMs: 2000,
  fatalMessage: 'session terminated by simulated fault',
};

/** Reports whether `name` is a fault name. */
export function isFaultName(name: string): name is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(name);
}

/** Returns `name` as a fault name or throws a usage error that lists the valid names. */
export function parseFaultName(name: string): FaultName {
  if (isFaultName(name)) {
    return name;
  }

  throw new AgentError(
    'USAGE_INVALID',
    `unknown fault "${name}"; valid faults: ${FAULT_NAMES.join(', ')}`,
    { details: { fault: name } },
  );
}

/**
 * The faults of one device, read by its servers on every connection and reply, so changes at
 * run time take effect on the next reply.
 */
export class DeviceFaults {
  /** Faults switched on; a fault absent from the set is off. */
  private readonly active = new Set<FaultName>();

  readonly settings: FaultSettings;

  constructor(names: Iterable<FaultName> = [], settings: Partial<FaultSettings> = {}) {
    for (const name of names) {
      this.active.add(name);
    }

    this.settings = { ...DEFAULT_FAULT_SETTINGS, ...definedOnly(settings) };
  }

  /** Reports whether the fault is on. */
  has(name: FaultName): boolean {
    return this.active.has(name);
  }

  /** Switches a fault on. */
  enable(name: FaultName): void {
    this.active.add(name);
  }

  /** Switches a fault off. */
  disable(name: FaultName): void {
    this.active.delete(name);
  }

  /** Switches every fault off and sets latency back to zero. */
  clear(): void {
    this.active.clear();
    this.settings.latencyMs = 0;
  }

  /** Switches a one-shot fault off and reports whether it was on. */
  take(name: FaultName): boolean {
    return this.active.delete(name);
  }

  /** Faults switched on, in the order of FAULT_NAMES. */
  list(): FaultName[] {
    return FAULT_NAMES.filter((name) => this.active.has(name));
  }

  /** Reports whether replies need the slow write path (delays or chunking). */
  get shapesWrites(): boolean {
    return this.settings.latencyMs > 0 || this.active.has('fragment');
  }
}

function definedOnly<T extends object>(values: Partial<T>): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
