/**
 * RouterOS time values: parsing the literal forms (`1s`, `500ms`, `1h30m`, `1d02:00:00`,
 * `00:01:00`) and formatting in the two styles devices print.
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  w: 604_800,
  d: 86_400,
  h: 3_600,
  m: 60,
  s: 1,
  ms: 0.001,
  us: 0.000_001,
  ns: 0.000_000_001,
};

const UNITS_FORM = /^([0-9]+(?:w|d|h|ms|us|ns|m|s))+$/;
const UNIT_PART = /([0-9]+)(w|d|h|ms|us|ns|m|s)/g;
const CLOCK_FORM =
  /^(?:([0-9]+)w)?(?:([0-9]+)d)?([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?$/;

/** Parses a time literal into seconds, or returns undefined when the text is not a time. */
export function parseTime(text: string): number | undefined {
  if (UNITS_FORM.test(text)) {
    let seconds = 0;
    for (const match of text.matchAll(UNIT_PART)) {
      seconds += Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
    }

    return roundNanoseconds(seconds);
  }

  const clock = CLOCK_FORM.exec(text);
  if (clock === null) {
    return undefined;
  }

  const [, weeks, days, hours, minutes, seconds, fraction] = clock;
  const whole =
    Number(weeks ?? 0) * 604_800 +
    Number(days ?? 0) * 86_400 +
    Number(hours) * 3_600 +
    Number(minutes) * 60 +
    Number(seconds ?? 0);
  return roundNanoseconds(whole + (fraction === undefined ? 0 : Number(`0.${fraction}`)));
}

function roundNanoseconds(seconds: number): number {
  return Math.round(seconds * 1e9) / 1e9;
}

function pad(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** The fraction of a second as `.500` or `.000250`, or empty for whole seconds. */
function formatFraction(seconds: number): string {
  const nanoseconds = Math.round((seconds - Math.floor(seconds)) * 1e9);
  if (nanoseconds === 0) {
    return '';
  }

  const digits = String(nanoseconds).padStart(9, '0');
  if (digits.endsWith('000000')) {
    return `.${digits.slice(0, 3)}`;
  }

  return digits.endsWith('000') ? `.${digits.slice(0, 6)}` : `.${digits}`;
}

/** Formats seconds as scripts print time values: `1w2d03:04:05`, `00:00:00.500`. */
export function formatScriptTime(value: number): string {
  const sign = value < 0 ? '-' : '';
  const seconds = Math.abs(value);
  let rest = Math.floor(seconds);
  const weeks = Math.floor(rest / 604_800);
  rest -= weeks * 604_800;
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3_600);
  rest -= hours * 3_600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  const prefix = `${weeks > 0 ? `${weeks}w` : ''}${days > 0 ? `${days}d` : ''}`;
  return `${sign}${prefix}${pad(hours)}:${pad(minutes)}:${pad(rest)}${formatFraction(seconds)}`;
}

/**
 * Formats seconds as RouterOS 7 prints durations in menus and over the API: `1w2d3h4m5s`,
 * `500ms`, `0s`.
 */
export function formatDuration(value: number): string {
  let rest = Math.floor(Math.abs(value));
  const parts: string[] = [];
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_SECONDS[unit] ?? 1;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) {
      parts.push(`${count}${unit}`);
    }
  }

  const milliseconds = Math.round((Math.abs(value) % 1) * 1000);
  if (milliseconds > 0) {
    parts.push(`${milliseconds}ms`);
  }

  const text = parts.length === 0 ? '0s' : parts.join('');
  return value < 0 ? `-${text}` : text;
}
