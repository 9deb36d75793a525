import { fileType } from '../files.js';
import {
  COMMENT,
  type ComputeContext,
  DISABLED,
  DISABLED_FLAG,
  defineMenu,
  type MenuSpec,
  type SeedValues,
} from '../menu-spec.js';
import { formatDeviceDate } from '../profiles.js';
import { readOnly, STRING } from '../schema.js';
import type { RouterOsVersion } from '../types.js';

const user = defineMenu({
  path: 'user',
  columns: ['name', 'group', 'address', 'last-logged-in'],
  flags: [DISABLED_FLAG],
  nameProperty: 'name',
  properties: [
    { name: 'name', type: STRING, required: true, unique: true },
    { name: 'group', type: { kind: 'reference', menu: 'user/group' }, required: true },
    { name: 'password', type: STRING, secret: true },
    { name: 'address', type: STRING, default: '' },
    readOnly('last-logged-in'),
    COMMENT,
    DISABLED,
  ],
  exported: false,
  seed: () => [{ name: 'admin', group: 'full', comment: 'system default user' }],
});

const userGroup = defineMenu({
  path: 'user/group',
  columns: ['name', 'policy'],
  nameProperty: 'name',
  properties: [
    { name: 'name', type: STRING, required: true, unique: true },
    { name: 'policy', type: STRING, default: '' },
    { name: 'skin', type: STRING, default: 'default', detailOnly: true },
    COMMENT,
  ],
  seed: () => [
    {
      name: 'read',
      policy:
        'local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!write,!policy',
    },
    {
      name: 'write',
      policy:
        'local,telnet,ssh,reboot,read,write,test,winbox,password,web,sniff,sensitive,api,romon,rest-api,!ftp,!policy',
    },
    {
      name: 'full',
      policy:
        'local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api',
    },
  ],
});

/**
 * Real devices leave `contents` out of a file's properties from about 4 KB on; the simulator
 * shows it only below 4096 bytes.
 */
const CONTENTS_LIMIT_BYTES = 4096;

function hideLargeContents(values: SeedValues): SeedValues {
  if ((values.contents ?? '').length < CONTENTS_LIMIT_BYTES) {
    return values;
  }

  const { contents: _omitted, ...rest } = values;
  return rest;
}

function file(version: RouterOsVersion): MenuSpec {
  return defineMenu({
    path: 'file',
    columns: ['name', 'type', 'size', 'creation-time'],
    canAdd: version.major >= 7,
    nameProperty: 'name',
    exported: false,
    properties: [
      { name: 'name', type: STRING, required: true, unique: true },
      { name: 'type', type: STRING, readOnly: version.major < 7, default: 'file' },
      { name: 'size', type: { kind: 'bytes' }, readOnly: true, default: '0' },
      readOnly('creation-time'),
      { name: 'contents', type: STRING, detailOnly: true },
    ],
    onWrite: (values, device, added) => ({
      ...values,
      type: values.type ?? fileType(values.name ?? ''),
      contents: values.contents ?? '',
      size: String((values.contents ?? '').length),
      'creation-time': added
        ? formatDeviceDate(device.version, new Date(device.nowMs))
        : (values['creation-time'] ?? ''),
    }),
    compute: hideLargeContents,
  });
}

const log = defineMenu({
  path: 'log',
  columns: ['time', 'topics', 'message'],
  canAdd: false,
  canSet: false,
  canRemove: false,
  exported: false,
  printFlags: ['follow', 'follow-only'],
  properties: [readOnly('time'), readOnly('topics'), readOnly('message')],
  compute: (values, device) => ({ ...values, time: logTime(device, Number(values.time ?? 0)) }),
});

/** Log times show only the time of day for today's entries, as the console does. */
function logTime(device: ComputeContext, timeMs: number): string {
  const text = formatDeviceDate(device.version, new Date(timeMs));
  const today = formatDeviceDate(device.version, new Date(device.nowMs));
  const [day, time = ''] = text.split(' ');
  return day === today.split(' ')[0] ? time : text;
}

/** `/user`, `/user group`, `/file` and `/log`. */
export function miscMenus(version: RouterOsVersion): MenuSpec[] {
  return [user, userGroup, file(version), log];
}
