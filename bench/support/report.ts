/** How much work a run of the benchmarks does: `full` for the record, `quick` as a smoke test. */
export type BenchMode = 'full' | 'quick';

/** A bound a metric should meet, such as `{ at: 'most', value: 2 }` for "under 2". */
export type Target = { at: 'most' | 'least'; value: number };

export type Metric = {
  name: string;
  value: number;
  unit: string;
  target?: Target;
};

/** A correctness condition of a benchmark, such as "every device ran the script once". */
export type Check = { name: string; passed: boolean; detail: string };

export type BenchmarkReport = {
  name: string;
  title: string;
  metrics: Metric[];
  checks: Check[];
  /** Everything else measured, for the JSON file. */
  details: Record<string, unknown>;
};

/** Writes a line of progress; the benchmarks log to standard error. */
export type Log = (line: string) => void;

/** One benchmark module as `bench/main.ts` runs it. */
export type Benchmark = {
  name: string;
  title: string;
  run(mode: BenchMode, log: Log): Promise<BenchmarkReport>;
};

/** Returns whether a metric meets its target; undefined when it has none. */
export function meetsTarget(metric: Metric): boolean | undefined {
  if (metric.target === undefined) {
    return undefined;
  }

  return metric.target.at === 'most'
    ? metric.value <= metric.target.value
    : metric.value >= metric.target.value;
}

/** Returns the median of the values; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    return Number.NaN;
  }

  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) {
    return sorted[middle] ?? Number.NaN;
  }

  return ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Rounds to `digits` decimals, for reports. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const MIB = 1024 * 1024;

/** Formats the reports as a plain-text table, one line per metric and per failed check. */
export function formatTable(reports: readonly BenchmarkReport[]): string {
  const rows: string[][] = [['benchmark', 'metric', 'value', 'target', 'status']];

  for (const report of reports) {
    for (const metric of report.metrics) {
      const met = meetsTarget(metric);
      rows.push([
        report.name,
        metric.name,
        `${formatNumber(metric.value)} ${metric.unit}`.trim(),
        metric.target === undefined ? '' : formatTarget(metric.target, metric.unit),
        statusOf(met),
      ]);
    }

    for (const check of report.checks) {
      rows.push([
        report.name,
        `check: ${check.name}`,
        check.detail,
        '',
        check.passed ? 'ok' : 'FAILED',
      ]);
    }
  }

  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths?.[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The status column: empty without a target. */
function statusOf(met: boolean | undefined): string {
  if (met === undefined) {
    return '';
  }

  return met ? 'met' : 'MISSED';
}

function formatTarget(target: Target, unit: string): string {
  return `${target.at === 'most' ? '<=' : '>='} ${formatNumber(target.value)} ${unit}`.trim();
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }

  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}
