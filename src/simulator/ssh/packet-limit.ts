import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';

import type { Connection } from 'ssh2';

import { observeProperty, ssh2Internals } from './ssh2-internals.js';

/*
 * Inbound SSH packets up to 256 KiB for the simulator's server.
 *
 * ssh2 1.x rejects any inbound packet longer than 35,000 bytes (`MAX_PACKET_SIZE` in
 * lib/protocol/crypto.js, checked inside each decipher class) and drops the connection with
 * "Bad packet length". An exec request carries the whole command in one packet, so a script of
 * more than about 34,900 bytes never reaches the device. OpenSSH accepts packets up to
 * 256 KiB (`PACKET_MAX_SIZE` in its packet.c).
 *
 * The constant is module-private, so this module compiles a private copy of crypto.js with the
 * limit raised and, on each simulator connection, moves every decipher ssh2 installs onto the
 * prototype of the same-named class from that copy. The copy is the installed file with one
 * line changed, so both classes have the same fields. ssh2's own module, and so every ssh2
 * client in the process, keeps its limit.
 */

/** Largest inbound packet the simulator's SSH server accepts, as OpenSSH does: 256 KiB. */
export const MAX_INBOUND_PACKET_BYTES = 256 * 1024;

/** The declaration this patch replaces, exactly as ssh2 1.17.0 writes it. */
const LIMIT_DECLARATION = 'const MAX_PACKET_SIZE = 35000;';

/** Decipher classes of ssh2's crypto.js. A name missing from the installed version is skipped. */
const DECIPHER_CLASSES = [
  'NullDecipher',
  'ChaChaPolyDecipherNative',
  'ChaChaPolyDecipherBinding',
  'AESGCMDecipherNative',
  'AESGCMDecipherBinding',
  'GenericDecipherNative',
  'GenericDecipherBinding',
] as const;

type Constructor = { readonly name: string; readonly prototype: object };

/** Patched decipher classes by name: undefined until first use, null when patching failed. */
let patchedClasses: Map<string, Constructor> | null | undefined;

/**
 * Lets a server connection receive packets up to MAX_INBOUND_PACKET_BYTES. Call it from the
 * server's `connection` handler. Returns false, leaving ssh2's limit in place, when the
 * installed ssh2 is not the version this patch was written for.
 */
export function raiseInboundPacketLimit(client: Connection): boolean {
  const protocol = ssh2Internals(client);
  const classes = loadPatchedDeciphers();
  if (protocol === undefined || classes === null || !('_decipher' in protocol)) {
    return false;
  }

  observeProperty(protocol, '_decipher', (decipher) => useRaisedLimit(decipher, classes));
  return true;
}

function useRaisedLimit(decipher: unknown, classes: Map<string, Constructor>): void {
  if (typeof decipher !== 'object' || decipher === null) {
    return;
  }

  const original = (decipher as { constructor?: Constructor }).constructor;
  const patched = original === undefined ? undefined : classes.get(original.name);
  if (patched !== undefined && patched !== original) {
    Object.setPrototypeOf(decipher, patched.prototype);
  }
}

function loadPatchedDeciphers(): Map<string, Constructor> | null {
  if (patchedClasses === undefined) {
    try {
      patchedClasses = compilePatchedCrypto();
    } catch {
      patchedClasses = null;
    }
  }

  return patchedClasses;
}

/** Compiles ssh2's crypto.js with the raised limit and returns its decipher classes. */
function compilePatchedCrypto(): Map<string, Constructor> | null {
  const path = createRequire(import.meta.url).resolve('ssh2/lib/protocol/crypto.js');
  const source = readFileSync(path, 'utf8');
  if (source.split(LIMIT_DECLARATION).length !== 2) {
    return null;
  }

  const exported = DECIPHER_CLASSES.map(
    (name) => `${name}: typeof ${name} === 'function' ? ${name} : undefined`,
  ).join(', ');
  const patched =
    source.replace(LIMIT_DECLARATION, `const MAX_PACKET_SIZE = ${MAX_INBOUND_PACKET_BYTES};`) +
    `\nmodule.exports.decipherClasses = { ${exported} };\n`;

  const module = { exports: {} as Record<string, unknown> };
  const evaluate = compileFunction(
    patched,
    ['exports', 'require', 'module', '__filename', '__dirname'],
    { filename: path },
  );
  evaluate(module.exports, createRequire(path), module, path, dirname(path));

  // The copy starts its own WebAssembly Poly1305 set-up, which only ciphers without the native
  // binding use, so a failure there is ignored instead of becoming an unhandled rejection.
  const init = module.exports.init;
  if (init instanceof Promise) {
    init.catch(() => undefined);
  }

  const found = module.exports.decipherClasses as Record<string, Constructor | undefined>;
  const classes = new Map<string, Constructor>();
  for (const name of DECIPHER_CLASSES) {
    const decipherClass = found[name];
    if (decipherClass !== undefined) {
      classes.set(name, decipherClass);
    }
  }

  return classes.size > 0 ? classes : null;
}
