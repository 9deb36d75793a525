import { quoteValue } from './format.js';
import type { MenuSpec } from './menu-spec.js';
import type { RouterOsVersion } from './types.js';

/** One item ready for the console: flag letters, comment and formatted values. */
export type PrintRow = {
  readonly flags: string;
  readonly comment: string | undefined;
  readonly values: ReadonlyArray<readonly [name: string, text: string]>;
};

const CRLF = '\r\n';

/**
 * Builds the `Flags:` legend. RouterOS 7 prints it only when a printed item carries a flag, in
 * capitals above tables and in lower case above `detail` listings.
 */
function flagLegend(
  version: RouterOsVersion,
  spec: MenuSpec,
  rows: readonly PrintRow[],
  table: boolean,
): string {
  if (spec.flags.length === 0) {
    return '';
  }

  if (version.major >= 7 && rows.every((row) => row.flags.trim() === '')) {
    return '';
  }

  const upper = version.major >= 7 && table;
  const parts = spec.flags.map(
    (flag) => `${flag.letter} - ${upper ? flag.label.toUpperCase() : flag.label}`,
  );
  return `Flags: ${parts.join(', ')}${version.major >= 7 ? '' : ' '}${CRLF}`;
}

function flagWidth(spec: MenuSpec): number {
  return Math.max(1, spec.flags.length);
}

/** Prints items as columns, as `print` does for address, interface and similar menus. */
export function printTable(
  version: RouterOsVersion,
  spec: MenuSpec,
  rows: readonly PrintRow[],
): string {
  const columns = spec.columns;
  const widths = columns.map((column) =>
    Math.max(
      column.length,
      ...rows.map((row) => (row.values.find(([name]) => name === column)?.[1] ?? '').length),
    ),
  );
  const numberWidth = Math.max(1, String(Math.max(0, rows.length - 1)).length);
  const lead = numberWidth + 1 + flagWidth(spec) + 1;
  const cells = (values: readonly string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  let output = flagLegend(version, spec, rows, true);
  if (version.major >= 7) {
    output += `Columns: ${columns.map((column) => column.toUpperCase()).join(', ')}${CRLF}`;
  }

  const header = columns.map((column) => column.toUpperCase());
  output += `${'#'.padEnd(lead)}${cells(header)}${CRLF}`;
  rows.forEach((row, index) => {
    const prefix = `${String(index).padStart(numberWidth)} ${row.flags.padEnd(flagWidth(spec))} `;
    const values = columns.map((column) => row.values.find(([name]) => name === column)?.[1] ?? '');
    if (row.comment !== undefined) {
      output += `${prefix};;; ${row.comment}${CRLF}`;
      output += `${' '.repeat(lead)}${cells(values)}${CRLF}`;
    } else {
      output += `${prefix}${cells(values)}${CRLF}`;
    }
  });
  return output;
}

function assignments(row: PrintRow): string {
  return row.values.map(([name, text]) => `${name}=${quoteValue(text)}`).join(' ');
}

/** Prints each item as `name=value` pairs under its number, as `print detail` does. */
export function printDetail(
  version: RouterOsVersion,
  spec: MenuSpec,
  rows: readonly PrintRow[],
): string {
  let output = flagLegend(version, spec, rows, false);
  const numberWidth = Math.max(2, String(Math.max(0, rows.length - 1)).length + 1);
  const lead = numberWidth + 1 + flagWidth(spec) + 1;
  rows.forEach((row, index) => {
    const prefix = `${String(index).padStart(numberWidth)} ${row.flags.padEnd(flagWidth(spec))} `;
    const body = assignments(row);
    if (row.comment !== undefined) {
      output += `${prefix};;; ${row.comment}${CRLF}${' '.repeat(lead)}${body}${CRLF}`;
    } else {
      output += `${prefix}${body}${CRLF}`;
    }

    output += CRLF;
  });
  return output;
}

/** Prints one line per item with every value, as `print terse` does. */
export function printTerse(spec: MenuSpec, rows: readonly PrintRow[]): string {
  return rows
    .map((row, index) => {
      const comment = row.comment === undefined ? '' : `comment=${quoteValue(row.comment)} `;
      const flags = row.flags.padEnd(flagWidth(spec));
      return `${String(index).padStart(2)} ${flags} ${comment}${assignments(row)}${CRLF}`;
    })
    .join('');
}

/** Prints a menu without items, names right-aligned before their values. */
export function printSingleton(values: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...values.map(([name]) => name.length));
  return values.map(([name, text]) => `${name.padStart(width + 2)}: ${text}${CRLF}`).join('');
}
