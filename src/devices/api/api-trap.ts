/** One `!trap` reply: RouterOS sends `=message=` and, for most traps, `=category=`. */
export type ApiTrap = {
  message: string;
  /**
   * 0 missing item or command, 1 argument value, 2 interrupted, 3 scripting, 4 general, 5 API,
   * 6 TTY, 7 `:return` value. Undefined when the device sent none.
   */
  category?: number;
};

/** Trap category RouterOS sends when `/cancel` stops a command. */
export const TRAP_INTERRUPTED = 2;

/**
 * A command the device refused. It keeps every trap the command received, in order, because
 * RouterOS may send several before the `!done` that ends the command.
 */
export class ApiTrapError extends Error {
  readonly traps: readonly ApiTrap[];

  constructor(traps: readonly ApiTrap[]) {
    super(traps.map((trap) => trap.message).join('; ') || 'command failed without a message');
    this.name = 'ApiTrapError';
    this.traps = traps;
  }

  /** Category of the first trap that has one. */
  get category(): number | undefined {
    return this.traps.find((trap) => trap.category !== undefined)?.category;
  }
}

/** Builds a trap from the attributes of a `!trap` sentence. */
export function toApiTrap(attributes: Readonly<Record<string, string>>): ApiTrap {
  const trap: ApiTrap = { message: attributes.message ?? '' };
  const category = Number.parseInt(attributes.category ?? '', 10);
  if (Number.isInteger(category)) {
    trap.category = category;
  }

  return trap;
}
