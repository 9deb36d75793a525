import { formatDeviceDate } from './profiles.js';
import type { DeviceRuntime } from './runtime.js';

/** The `type` RouterOS shows for a file name. */
export function fileType(name: string): string {
  if (name.endsWith('.rsc')) {
    return 'script';
  }

  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(dot)} file` : 'file';
}

/** Creates or replaces a file in `/file`, as `:execute file=` and `export file=` do. */
export function writeFile(runtime: DeviceRuntime, name: string, contents: string): void {
  const { engine } = runtime;
  const spec = engine.spec('file');
  const existing = engine.items(spec).find((item) => item.values.name === name);
  const values = {
    name,
    type: fileType(name),
    size: String(contents.length),
    'creation-time': formatDeviceDate(runtime.version, new Date(runtime.clock.now())),
    contents,
  };
  if (existing === undefined) {
    engine.insertInternal(spec, values);
  } else {
    existing.values = values;
  }
}
