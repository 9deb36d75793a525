import { getDiffieHellman } from 'node:crypto';

import type { Connection } from 'ssh2';

import { observeProperty } from './ssh2-internals.js';

/*
 * Server side of diffie-hellman-group-exchange (RFC 4419) for ssh2's server.
 *
 * RouterOS 6 offers only group exchange under `strong-crypto=yes`, and prefers it otherwise, but
 * ssh2 1.x implements group exchange for its client only: its server ends the handshake with
 * "Group exchange not implemented for server". This module fills the gap on each connection by
 * wrapping the key exchange object ssh2 creates. It relies on ssh2 internals (`_protocol`,
 * `_kex`, `_step`, `_minBits`, `_prefBits`, `_maxBits`, `_packetRW`, `_cipher`), which the
 * group-exchange tests exercise with both ssh2's and OpenSSH's clients.
 */

const MESSAGE = {
  KEXDH_INIT: 30,
  KEXDH_REPLY: 31,
  KEX_DH_GEX_GROUP: 31,
  KEX_DH_GEX_INIT: 32,
  KEX_DH_GEX_REPLY: 33,
  KEX_DH_GEX_REQUEST: 34,
};

/** RFC 3526 MODP groups built into Node's OpenSSL, by prime size in bits. */
const GROUPS = [
  { bits: 2048, name: 'modp14' },
  { bits: 3072, name: 'modp15' },
  { bits: 4096, name: 'modp16' },
  { bits: 6144, name: 'modp17' },
  { bits: 8192, name: 'modp18' },
] as const;

type PacketWriter = {
  allocStartKEX: number;
  alloc(size: number, forKex: boolean): Buffer;
  finalize(packet: Buffer, forKex: boolean): Buffer;
};

type ProtocolInternals = {
  _packetRW: { write: PacketWriter };
  _cipher: { encrypt(packet: Buffer): void };
};

type GroupExchangeInternals = {
  type: string;
  _step: number;
  _minBits: number;
  _prefBits: number;
  _maxBits: number;
  _protocol: ProtocolInternals;
  parse(payload: Buffer): unknown;
  setDHParams(prime: Buffer, generator: Buffer): void;
  generateKeys(): void;
};

/**
 * Lets one server connection complete a group exchange. Call it from the server's `connection`
 * handler, before the client's key exchange request is read.
 */
export function enableServerGroupExchange(client: Connection): void {
  const protocol = (client as unknown as { _protocol?: object })._protocol;
  if (protocol === undefined) {
    return;
  }

  observeProperty(protocol, '_kex', (kex) => {
    if (isGroupExchange(kex)) {
      serveGroupExchange(kex);
    }
  });
}

function isGroupExchange(kex: unknown): kex is GroupExchangeInternals {
  return typeof kex === 'object' && kex !== null && (kex as { type?: unknown }).type === 'groupex';
}

/**
 * Replaces the server half of the exchange: reply to the request with a group, then hand the
 * client's public value to ssh2's ordinary Diffie-Hellman reply, which already hashes the
 * group-exchange fields and sends `KEX_DH_GEX_REPLY`.
 */
function serveGroupExchange(kex: GroupExchangeInternals): void {
  const groupExchangeParse = Object.getPrototypeOf(kex).parse as (payload: Buffer) => unknown;
  const plainParse = Object.getPrototypeOf(Object.getPrototypeOf(kex)).parse as (
    payload: Buffer,
  ) => unknown;

  kex.parse = (payload: Buffer): unknown => {
    const type = payload[0];
    if (kex._step === 1 && type === MESSAGE.KEX_DH_GEX_REQUEST && payload.length >= 13) {
      sendGroup(kex, payload.readUInt32BE(1), payload.readUInt32BE(5), payload.readUInt32BE(9));
      return undefined;
    }

    if (kex._step === 2 && type === MESSAGE.KEX_DH_GEX_INIT) {
      payload[0] = MESSAGE.KEXDH_INIT;
      kex._step = 1;
      kex.parse = plainParse;
      return withGroupExchangeReply(kex, () => plainParse.call(kex, payload));
    }

    // Anything else ends the handshake with ssh2's own error.
    return groupExchangeParse.call(kex, payload);
  };
}

/**
 * Runs ssh2's plain reply, which labels its packet `KEXDH_REPLY` (31) whatever the exchange,
 * and relabels that packet `KEX_DH_GEX_REPLY` (33) as group exchange requires.
 */
function withGroupExchangeReply(kex: GroupExchangeInternals, reply: () => unknown): unknown {
  const writer = kex._protocol._packetRW.write;
  const finalize = writer.finalize;
  writer.finalize = (packet: Buffer, forKex: boolean): Buffer => {
    if (packet[writer.allocStartKEX] === MESSAGE.KEXDH_REPLY) {
      packet[writer.allocStartKEX] = MESSAGE.KEX_DH_GEX_REPLY;
      writer.finalize = finalize;
    }

    return finalize.call(writer, packet, forKex);
  };

  try {
    return reply();
  } finally {
    writer.finalize = finalize;
  }
}

function sendGroup(
  kex: GroupExchangeInternals,
  minBits: number,
  prefBits: number,
  maxBits: number,
) {
  const group = chooseGroup(minBits, prefBits, maxBits);
  kex._minBits = minBits;
  kex._prefBits = prefBits;
  kex._maxBits = maxBits;

  const dh = getDiffieHellman(group.name);
  const prime = toMpint(dh.getPrime());
  const generator = toMpint(dh.getGenerator());
  kex.setDHParams(prime, generator);
  kex.generateKeys();

  const writer = kex._protocol._packetRW.write;
  let offset = writer.allocStartKEX;
  const packet = writer.alloc(1 + 4 + prime.length + 4 + generator.length, true);
  packet[offset] = MESSAGE.KEX_DH_GEX_GROUP;
  offset = packet.writeUInt32BE(prime.length, offset + 1);
  offset += prime.copy(packet, offset);
  offset = packet.writeUInt32BE(generator.length, offset);
  generator.copy(packet, offset);
  kex._protocol._cipher.encrypt(writer.finalize(packet, true));
  kex._step = 2;
}

/**
 * Picks the smallest group at least as large as the preferred size within the client's bounds,
 * else the largest within them, else the closest to them.
 */
export function chooseGroup(minBits: number, prefBits: number, maxBits: number) {
  const allowed = GROUPS.filter((group) => group.bits >= minBits && group.bits <= maxBits);
  const preferred = allowed.find((group) => group.bits >= prefBits) ?? allowed.at(-1);
  if (preferred !== undefined) {
    return preferred;
  }

  return maxBits < GROUPS[0].bits ? GROUPS[0] : GROUPS[4];
}

/** Encodes an unsigned big-endian integer as an SSH mpint body (leading zero when the top bit is set). */
function toMpint(value: Buffer): Buffer {
  const first = value[0] ?? 0;
  return first & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value;
}
