import type { MenuNode } from './command-catalog.js';
import { formatValue, quoteValue } from './format.js';
import type { MenuSpec, SeedValues } from './menu-spec.js';
import { formatDeviceDate, seededRandom } from './profiles.js';
import type { DeviceRuntime } from './runtime.js';
import type { Item } from './state.js';

const CRLF = '\r\n';

/** Width past which export breaks a line with ` \` and continues it indented. */
const LINE_WIDTH = 80;

export type ExportOptions = { readonly terse: boolean; readonly compact: boolean };

function header(runtime: DeviceRuntime): string {
  const { version, profile } = runtime;
  const random = seededRandom(profile.macPrefix);
  const code = (length: number, alphabet: string) =>
    Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const softwareId = `${code(4, 'ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789')}-${code(4, 'ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789')}`;
  const date = formatDeviceDate(version, new Date(runtime.clock.now()));
  let text = `# ${date} by RouterOS ${version.text}${CRLF}# software id = ${softwareId}${CRLF}#${CRLF}`;
  if (profile.key !== 'chr') {
    text += `# model = ${profile.boardName}${CRLF}# serial number = ${code(12, '0123456789ABCDEF')}${CRLF}`;
  }

  return text;
}

/** Exported properties of an item: set, writable, not secret, sorted by name. */
function assignments(
  runtime: DeviceRuntime,
  spec: MenuSpec,
  values: SeedValues,
  baseline?: SeedValues,
) {
  const parts: string[] = [];
  const names = Object.keys(values).sort();
  for (const name of names) {
    const property = spec.propertyIndex.get(name);
    const value = values[name];
    const unchanged = baseline !== undefined && baseline[name] === value;
    const isDefault = value === property?.default && name !== 'action';
    if (
      property === undefined ||
      property.readOnly === true ||
      property.secret === true ||
      value === undefined
    ) {
      continue;
    }

    if (unchanged || isDefault || spec.view?.match[name] !== undefined) {
      continue;
    }

    parts.push(`${name}=${quoteValue(formatValue(runtime.version, property, value, 'console'))}`);
  }

  return parts;
}

function itemLines(runtime: DeviceRuntime, spec: MenuSpec): string[] {
  if (spec.kind === 'singleton') {
    const parts = assignments(runtime, spec, runtime.engine.values(spec, undefined));
    return parts.length === 0 ? [] : [`set ${parts.join(' ')}`];
  }

  const seeded = spec.seed?.(runtime.seedContext) ?? [];
  const editsSeeded = !spec.canAdd || spec.key === 'user/group';
  return runtime.engine.items(spec).flatMap((item) => {
    const baseline = editsSeeded && item.id <= seeded.length ? seeded[item.id - 1] : undefined;
    if (editsSeeded && baseline === undefined && !spec.canAdd) {
      return [];
    }

    const parts = assignments(runtime, spec, item.values, baseline);
    if (baseline === undefined) {
      return [`add ${parts.join(' ')}`.trimEnd()];
    }

    return parts.length === 0 ? [] : [`set ${selector(spec, item)} ${parts.join(' ')}`];
  });
}

function selector(spec: MenuSpec, item: Item): string {
  const defaultName = item.values['default-name'];
  if (defaultName !== undefined) {
    return `[ find default-name=${quoteValue(defaultName)} ]`;
  }

  const name = spec.nameProperty === undefined ? undefined : item.values[spec.nameProperty];
  return name === undefined ? `*${item.id.toString(16).toUpperCase()}` : quoteValue(name);
}

/** Breaks a long line at spaces with a trailing backslash, as export does. */
function wrap(line: string): string {
  if (line.length <= LINE_WIDTH) {
    return line;
  }

  const words = line.split(' ');
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    if (current !== '' && current.length + word.length + 3 > LINE_WIDTH) {
      lines.push(`${current} \\`);
      current = `    ${word}`;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }

  lines.push(current);
  return lines.join(CRLF);
}

function menusUnder(node: MenuNode): MenuSpec[] {
  const specs: MenuSpec[] = [];
  const visit = (current: MenuNode) => {
    if (current.spec?.exported) {
      specs.push(current.spec);
    }

    for (const child of current.children.values()) {
      visit(child as MenuNode);
    }
  };
  visit(node);
  return specs;
}

/** Writes the configuration of a menu and the menus below it, as `export` prints it. */
export function exportMenus(
  runtime: DeviceRuntime,
  node: MenuNode,
  options: ExportOptions,
): string {
  let text = header(runtime);
  for (const spec of menusUnder(node)) {
    const lines = itemLines(runtime, spec);
    if (lines.length === 0) {
      continue;
    }

    const path = `/${spec.path.join(' ')}`;
    if (options.terse) {
      text += lines.map((line) => `${path} ${line}${CRLF}`).join('');
    } else {
      text += `${path}${CRLF}${lines.map((line) => `${wrap(line)}${CRLF}`).join('')}`;
    }
  }

  return text;
}
