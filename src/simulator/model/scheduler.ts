import type { TimerHandle } from '../../clock.js';
import type { DeviceRuntime } from './runtime.js';
import { nextRunMs } from './schedule-time.js';
import type { Item } from './state.js';
import { recordScriptStart } from './stored-scripts.js';

/**
 * Maximum delay of one timer, in milliseconds. Node fires a timer of more than 2^31 - 1 ms at
 * once, so a later run is reached through several timers.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `/system scheduler` items on the device clock. One timer waits for the earliest next
 * run, and adding, changing or removing an item sets it again. Each run starts `on-event` as a
 * background job with origin `scheduler`: the `/system script` of that name when there is one,
 * otherwise `on-event` itself as script text.
 * NOTE: the timer keeps running while a fleet device is stopped or its fleet closed, because
 * the model has no power state of its own.
 */
export class Scheduler {
  private readonly runtime: DeviceRuntime;

  /** Timer of the earliest next run, or undefined when no enabled item will run again. */
  private timer: TimerHandle | undefined;

  /** Device time the timer was set for, in milliseconds. */
  private timerDueMs = 0;

  /** Device time up to which runs were started or skipped, in milliseconds. */
  private handledUntilMs = 0;

  /**
   * Whether the scheduler menu was ever changed. Until then the menu may not exist, and
   * reading it would create it, which an idle device must not do.
   */
  private active = false;

  constructor(runtime: DeviceRuntime) {
    this.runtime = runtime;
  }

  /** Sets the timer for the earliest next run of any enabled item after `afterMs`. */
  reschedule(afterMs = this.runtime.clock.now()): void {
    this.active = true;
    this.cancel();
    this.handledUntilMs = afterMs;
    const { clock } = this.runtime;
    const bootMs = this.runtime.computeContext().bootMs;
    const due = this.items()
      .map((item) => nextRunMs(item.values, afterMs, bootMs))
      .filter((time) => time !== undefined);
    if (due.length === 0) {
      return;
    }

    const now = clock.now();
    this.timerDueMs = Math.min(...due, now + MAX_TIMER_MS);
    this.timer = clock.setTimeout(() => this.fire(), Math.max(0, this.timerDueMs - now));
  }

  /** Clears every item's run count and plans the runs of the new boot, as a reboot does. */
  boot(): void {
    if (!this.active) {
      return;
    }

    for (const item of this.items()) {
      item.values = { ...item.values, 'run-count': '0' };
    }

    this.reschedule();
  }

  private cancel(): void {
    if (this.timer !== undefined) {
      this.runtime.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private items(): Item[] {
    const { engine } = this.runtime;
    return engine.items(engine.spec('system/scheduler'));
  }

  /**
   * Runs, in list order, every item with a run due since the last check, once even when a late
   * timer let several runs pass, then sets the timer again. A timer that fires before its
   * time counts as on time.
   */
  private fire(): void {
    this.timer = undefined;
    const at = Math.max(this.timerDueMs, this.runtime.clock.now());
    const bootMs = this.runtime.computeContext().bootMs;
    for (const item of this.items()) {
      const due = nextRunMs(item.values, this.handledUntilMs, bootMs);
      if (due !== undefined && due <= at) {
        this.run(item);
      }
    }

    this.reschedule(at);
  }

  private run(item: Item): void {
    const { runtime } = this;
    item.values = {
      ...item.values,
      'run-count': String(Number(item.values['run-count'] ?? '0') + 1),
    };

    const onEvent = item.values['on-event'] ?? '';
    const scripts = runtime.engine.items(runtime.engine.spec('system/script'));
    const script = scripts.find((candidate) => candidate.values.name === onEvent);
    if (script !== undefined) {
      recordScriptStart(runtime, script);
    }

    runtime.startJob(
      { source: script === undefined ? onEvent : (script.values.source ?? ''), block: undefined },
      { file: undefined, origin: 'scheduler', name: script?.values.name },
    );
  }
}
