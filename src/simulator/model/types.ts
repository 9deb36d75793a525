/**
 * The contract between a simulated device's state and script interpreter on one side and the
 * API and SSH servers on the other. The servers own the wire formats, login, tags, faults and
 * version differences of the protocol; the device owns menus, items, scripts and their output.
 *
 * Every string in this contract is a byte string, one character per byte (latin1), because
 * RouterOS stores bytes without a character set. The servers convert with
 * `Buffer.from(text, 'latin1')` and `buffer.toString('latin1')`, which round-trips every byte.
 */

/** A RouterOS version such as `7.18.2` or `6.43rc4`. */
export type RouterOsVersion = {
  /** As printed by `/system/resource print`, without the channel: `7.18.2`, `6.43rc4`. */
  text: string;
  major: number;
  minor: number;
  patch: number;
  /** Release-candidate number, or undefined for a release. */
  rc?: number;
};

/** One item as the API returns it: attribute names to values, `.id` first. */
export type ApiRow = ReadonlyArray<readonly [name: string, value: string]>;

/** A command issued over the API, after the server has removed `.tag` and handled login. */
export type ApiCommand = {
  /** Menu path without the command: `/ip/firewall/filter/print` gives `ip`, `firewall`, `filter`. */
  path: readonly string[];
  /** The last word of the command: `print`, `add`, `set`, `execute`, ... */
  command: string;
  /** `=name=value` words in the order received. A name may repeat; the last one wins. */
  attributes: ReadonlyArray<readonly [name: string, value: string]>;
  /** `?...` query words in the order received, without the leading `?`. */
  queries: readonly string[];
};

/** Where a script or command came from; some behaviour differs (sshd logs, API traps). */
export type Origin = 'api' | 'ssh' | 'scheduler' | 'script';

export type ExecuteOptions = {
  /** Aborting interrupts the command, which then fails with category 2 `interrupted`. */
  signal: AbortSignal;
  /** Called once per item a command returns, in order, before the command completes. */
  onRow: (row: ApiRow) => void;
};

/** How a command ended: a value for `!done =ret=`, or nothing. */
export type ApiCompletion = { ret?: string };

/**
 * A device's refusal of a command, sent by the API server as `!trap` then `!done`, and printed
 * by the console as the message text.
 */
export class DeviceTrap extends Error {
  /** Trap category 0 to 7 as documented for the RouterOS API; undefined when the device sends none. */
  readonly category: number | undefined;

  constructor(message: string, category?: number) {
    super(message);
    this.name = 'DeviceTrap';
    this.category = category;
  }
}

/** Where the interpreter blamed a script: 1-based line and column. */
export type ScriptPosition = { line: number; column: number };

/** The result of running script text as the console would. */
export type ScriptRun = {
  /** Everything the script printed, lines ended by CRLF, as bytes would be written to a terminal. */
  output: string;
  /**
   * Set when the script did not run to its end. `syntax` errors stop it before any command ran;
   * `runtime` errors stop it part way, after `output` was printed.
   */
  failure?: {
    kind: 'syntax' | 'runtime';
    /** The device's own text, e.g. `bad command name foo (line 2 column 3)`. */
    message: string;
    position?: ScriptPosition;
  };
};

/** The state and behaviour of one simulated device, shared by all its servers. */
export interface SimulatedDevice {
  readonly version: RouterOsVersion;
  /** Current `/system identity` name. */
  readonly identity: string;
  /** Scripts run so far through `/execute`, `/system/script/run`, SSH exec or the scheduler. */
  readonly executions: number;
  /** Runs one API command. Rejects with DeviceTrap on a refusal. */
  execute(command: ApiCommand, options: ExecuteOptions): Promise<ApiCompletion>;
  /** Runs script text as the console does for SSH exec and `/execute`. Never rejects for script errors. */
  runScript(source: string, options: { signal: AbortSignal; origin: Origin }): Promise<ScriptRun>;
  /** Registers the handler the fleet uses to take the device down when a script or command reboots it. */
  onReboot(handler: () => void): void;
}
