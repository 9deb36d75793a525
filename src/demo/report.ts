import type { DemoDevice } from './fleet.js';
import type { DeviceResult, ProgressChange, ScriptProgress } from './scenario.js';

const COLORS = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;

type Color = keyof typeof COLORS;

/**
 * Writes the demo's report. Colours are used on a terminal only (and never with NO_COLOR), so
 * CI logs get plain lines; every change is its own line either way.
 */
export class Printer {
  private readonly out: NodeJS.WritableStream;

  private readonly color: boolean;

  private readonly startedAt = performance.now();

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv) {
    this.out = out;
    this.color = out.isTTY === true && env.NO_COLOR === undefined;
  }

  line(text = ''): void {
    this.out.write(`${text}\n`);
  }

  /** Wraps `text` in an ANSI colour when writing to a terminal. */
  paint(text: string, color: Color): string {
    return this.color ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
  }

  /** Seconds since the demo started, as `12.3s`. */
  elapsed(): string {
    return `${((performance.now() - this.startedAt) / 1000).toFixed(1)}s`;
  }

  step(text: string): void {
    this.line(`${this.paint(`[${this.elapsed().padStart(6)}]`, 'dim')} ${text}`);
  }

  /** Writes one line per observed change of the delivery, a device or the site. */
  change(change: ProgressChange): void {
    const state = this.paint(change.state, stateColor(change.state));
    const code = change.code === undefined ? '' : ` ${change.code}`;
    this.step(`  ${change.subject.padEnd(16)} ${state}${code}`);
  }

  progress(title: string, progress: ScriptProgress): void {
    this.line();
    this.line(this.paint(title, 'bold'));
    this.line(`  ${JSON.stringify(progress)}`);
  }

  /** Writes a device's final state, then its output and error, indented. */
  device(result: DeviceResult, demo: DemoDevice | undefined): void {
    const code = result.error_code === null ? '' : ` ${result.error_code}`;
    const role = demo === undefined ? '' : this.paint(` (${demo.role})`, 'dim');
    this.line(
      `  ${result.device_id}${role}: ${this.paint(result.state, stateColor(result.state))}${code}`,
    );

    const output = (result.output ?? '').replace(/\r\n/g, '\n').trimEnd();
    for (const text of output === '' ? [] : output.split('\n')) {
      this.line(`      | ${text}`);
    }

    if (result.error_message !== null) {
      const position =
        result.error_line === null
          ? ''
          : ` (line ${result.error_line}, column ${result.error_column})`;
      this.line(`      error: ${result.error_message}${position}`);
    }
  }
}

function stateColor(state: string): Color {
  if (state === 'succeeded' || state === 'completed' || state === 'accepted') {
    return 'green';
  }

  if (['failed', 'timed_out', 'cancelled', 'interrupted', 'rejected', 'skipped'].includes(state)) {
    return 'red';
  }

  return 'yellow';
}
