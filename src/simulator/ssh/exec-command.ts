import type { Connection } from 'ssh2';

import { observeProperty, ssh2Internals } from './ssh2-internals.js';

/*
 * The exact bytes of SSH exec commands.
 *
 * ssh2 1.x decodes the command of an exec request as UTF-8 before its server emits `exec`, so
 * bytes that are not valid UTF-8 (a script in windows-1252, where `ö` is 0xF6) arrive as
 * U+FFFD. RouterOS takes the command as bytes. This module taps the `read` method of the
 * connection's packet reader (`_protocol._packetRW.read`), which returns each inbound packet
 * decrypted and decompressed just before ssh2 dispatches it, and keeps the command of the last
 * exec request. ssh2 emits `exec` synchronously while dispatching that same packet, so the
 * handler takes the bytes of its own request.
 */

const CHANNEL_REQUEST = 98;

type PacketReader = { read(payload: Buffer): Buffer };

type PacketReaders = { read: unknown };

/** The raw commands of one connection's exec requests. */
export type ExecCommands = {
  /**
   * Returns the bytes of the exec request being dispatched, or undefined when they were not
   * captured. `decoded` is the command ssh2 passed to the handler. Bytes that do not decode to
   * it belong to another request and are not returned.
   */
  take(decoded: string): Buffer | undefined;
};

const UNKNOWN: ExecCommands = { take: () => undefined };

/**
 * Starts capturing the raw exec commands of a server connection. When the installed ssh2 lacks
 * the internals this relies on, the returned `take` always returns undefined.
 */
export function captureExecCommands(client: Connection): ExecCommands {
  const readers = ssh2Internals(client)?._packetRW as PacketReaders | undefined;
  if (readers === undefined || !isPacketReader(readers.read)) {
    return UNKNOWN;
  }

  let last: Buffer | undefined;
  const tap = (reader: unknown) => {
    if (!isPacketReader(reader)) {
      return;
    }

    const read = reader.read;
    reader.read = (payload: Buffer): Buffer => {
      const packet = read.call(reader, payload);
      last = execCommandOf(packet) ?? last;
      return packet;
    };
  };

  // ssh2 installs a new reader after each key exchange and when compression starts.
  observeProperty(readers, 'read', tap);

  return {
    take(decoded) {
      const command = last;
      last = undefined;
      return command?.toString('utf8') === decoded ? command : undefined;
    },
  };
}

function isPacketReader(value: unknown): value is PacketReader {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { read?: unknown }).read === 'function'
  );
}

/**
 * Returns a copy of the command of an SSH_MSG_CHANNEL_REQUEST `exec` payload (RFC 4254 section
 * 6.5), or undefined for any other packet.
 */
export function execCommandOf(payload: Buffer): Buffer | undefined {
  // byte 98, uint32 recipient channel, string "exec", boolean want reply, string command
  if (payload[0] !== CHANNEL_REQUEST || payload.length < 9) {
    return undefined;
  }

  const typeEnd = 9 + payload.readUInt32BE(5);
  if (typeEnd > payload.length || payload.toString('latin1', 9, typeEnd) !== 'exec') {
    return undefined;
  }

  const commandStart = typeEnd + 1 + 4;
  if (commandStart > payload.length) {
    return undefined;
  }

  const commandEnd = commandStart + payload.readUInt32BE(typeEnd + 1);
  if (commandEnd > payload.length) {
    return undefined;
  }

  // ssh2 may reuse the packet buffer once the packet is handled.
  return Buffer.from(payload.subarray(commandStart, commandEnd));
}
