import { describe, expect, test } from 'vitest';

import { execCommandOf } from '../../../src/simulator/ssh/exec-command.js';
import { ssh2InternalsSupported } from '../../../src/simulator/ssh/ssh2-internals.js';

/** Builds an SSH_MSG_CHANNEL_REQUEST payload: recipient 0, want reply, then `data`. */
function channelRequest(type: string, data: Buffer): Buffer {
  const typeLength = Buffer.alloc(4);
  typeLength.writeUInt32BE(type.length);
  return Buffer.concat([
    Buffer.from([98, 0, 0, 0, 0]),
    typeLength,
    Buffer.from(type),
    Buffer.from([1]),
    data,
  ]);
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

describe('execCommandOf', () => {
  test('returns the command bytes', () => {
    const command = Buffer.from([0x3a, 0x70, 0x75, 0x74, 0x20, 0xf6]);

    expect(execCommandOf(channelRequest('exec', sshString(command)))).toEqual(command);
  });

  test('ignores other request types', () => {
    const payload = channelRequest('subsystem', sshString(Buffer.from('sftp')));

    expect(execCommandOf(payload)).toBeUndefined();
  });

  test('ignores other message types', () => {
    const payload = channelRequest('exec', sshString(Buffer.from(':put 1')));
    payload[0] = 94;

    expect(execCommandOf(payload)).toBeUndefined();
  });

  test.each([
    ['a cut command', channelRequest('exec', sshString(Buffer.from(':put 1')).subarray(0, 6))],
    ['no command length', channelRequest('exec', Buffer.alloc(2))],
    ['a cut type', channelRequest('exec', Buffer.alloc(0)).subarray(0, 11)],
    ['an empty payload', Buffer.alloc(0)],
  ])('returns undefined for %s', (_case, payload) => {
    expect(execCommandOf(payload)).toBeUndefined();
  });
});

describe('ssh2InternalsSupported', () => {
  test.each([
    ['1.17.0', true],
    ['1.0.0', true],
    ['2.0.0', false],
    ['0.8.9', false],
  ])('%s gives %s', (version, expected) => {
    expect(ssh2InternalsSupported(version)).toBe(expected);
  });
});
