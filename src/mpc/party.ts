/**
 * The plumbing every two-party protocol's parties share (keygen, presign, backup, recover and the FROST
 * parties): one-byte round tags checked before any field is read, a whole-message decoder that rejects
 * trailing bytes, the `guarded` wrapper that turns any throw into a sticky abort, and the epoch and party
 * id checks.
 *
 * @example
 * const m = taggedMessage(0x31, (w) => w.bytes(rnd, 16));
 * const rnd2 = untaggedMessage(m, 0x31, 'the backup message B1', (r) => r.bytes(16, 'rnd_P1'));
 */
import { TandemError, toTandemError } from '../errors.js';
import { assertBytes, internal, malformed } from './assert.js';
import { PID_BYTES } from './session.js';
import { decodeAll, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Builds `tag ‖ fields`. */
export function taggedMessage(tag: number, write: (w: WireWriter) => void): Uint8Array {
  return encodeWith((w) => {
    w.bytes(new Uint8Array([tag]), 1);
    write(w);
  });
}

/** Reads a whole message: the tag first (else MALFORMED_MESSAGE naming `expected`), then `read`, then nothing may be left. */
export function untaggedMessage<T>(message: Uint8Array, tag: number, expected: string, read: (r: WireReader) => T): T {
  if (!(message instanceof Uint8Array)) throw malformed('message', 'bytes');
  return decodeAll(message, (r) => {
    const [t] = r.bytes(1, 'round');
    if (t !== tag) throw malformed('round', expected);
    return read(r);
  });
}

/**
 * Runs `step`; on any throw aborts the party (erasing its secrets) and rethrows as a TandemError.
 * Foreign errors become `INTERNAL` without their message (it could hold secret material).
 */
export function guarded<T>(abort: (err: TandemError) => void, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const e = toTandemError(err);
    abort(e);
    throw e;
  }
}

export function toEpoch(epoch: number | bigint): bigint {
  const v = typeof epoch === 'number' ? (Number.isSafeInteger(epoch) ? BigInt(epoch) : -1n) : epoch;
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw internal('epoch', 'an integer in [0, 2^64)');
  return v;
}

export function checkPid(pid: Uint8Array, field: string): Uint8Array {
  assertBytes(pid, PID_BYTES, field);
  return pid.slice();
}
