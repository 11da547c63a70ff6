/** Decoders fuzzed: share bytes and every FROST message, random or mutated → a typed error, never a crash. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TandemError } from '../../src/errors.js';
import { decodeFrostShare, FROST_SHARE_BYTES, frostPublicKeyOf, type FrostParty } from '../../src/mpc/frost.js';
import { backupParties, complete, drive, keygen, keygenParties, recoverParties, signParties, type ShareResult } from './frost-helpers.js';

const k = keygen();
const b = complete(drive<ShareResult>(...backupParties(k.custodian.share, k.client.share)));

/** Either decodes, or throws MALFORMED_MESSAGE; anything else (a crash, another error) fails. */
function decodesOrMalformed(bytes: Uint8Array): boolean {
  try {
    decodeFrostShare(bytes);
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(TandemError);
    expect((e as TandemError).code).toBe('MALFORMED_MESSAGE');
    return false;
  }
}

describe('share decoder', () => {
  it('random bytes of any length → MALFORMED_MESSAGE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodesOrMalformed(bytes)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes of the right length with a valid header → MALFORMED_MESSAGE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: FROST_SHARE_BYTES - 2, maxLength: FROST_SHARE_BYTES - 2 }), fc.constantFrom(0x21, 0x22, 0x23, 0x24), (body, kind) => {
        expect(decodesOrMalformed(new Uint8Array([1, kind, ...body]))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('a valid share with bytes changed: decodes only if the change is in the ids, epoch or pids', () => {
    const share = k.client.share;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: FROST_SHARE_BYTES - 1 }), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const m = share.slice();
        m[pos] = (m[pos] ?? 0) ^ x;
        const ok = decodesOrMalformed(m);
        // The kind byte may turn into the other kind of the same role (signing ↔ backup): the bytes of
        // the two are alike, and which one a share is comes from its pair id at the custodian.
        const sameRoleKind = pos === 1 && (m[1] ?? 0) !== share[1] && (m[1] ?? 0) - 0x21 < 4 && (m[1] ?? 0) >= 0x21 && ((m[1] ?? 0) - (share[1] ?? 0)) % 2 === 0;
        // Header, group key, verifying shares and s are all checked against each other.
        if ((pos < 2 && !sameRoleKind) || pos >= 2 + 32 + 32 + 8 + 16 + 16) expect(ok, `byte ${pos}`).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('the kind byte names the role: a client share never decodes as a custodian share', () => {
    for (const kind of [0x21, 0x23]) {
      const m = k.client.share.slice();
      m[1] = kind;
      expect(decodesOrMalformed(m)).toBe(false);
    }
  });

  it('other versions, kinds, the ECDSA kinds, and truncations are refused', () => {
    for (const [v, kind] of [[0, 0x22], [2, 0x22], [1, 0x01], [1, 0x02], [1, 0x25]] as const) {
      const m = k.client.share.slice();
      m[0] = v;
      m[1] = kind;
      expect(decodesOrMalformed(m)).toBe(false);
    }
    expect(decodesOrMalformed(k.client.share.subarray(0, 100))).toBe(false);
    expect(frostPublicKeyOf(k.client.share)).toBe(k.client.publicKey);
    expect(() => frostPublicKeyOf(new Uint8Array(3))).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE' }));
  });
});

/** Parties in each receiving state: a fresh pair run up to (not including) message t. */
type Make = () => readonly [FrostParty<unknown>, FrostParty<unknown>];
const MAKERS: [string, Make, number][] = [
  ['keygen', () => keygenParties(0), 5],
  ['backup', () => backupParties(k.custodian.share, k.client.share), 5],
  ['recover', () => recoverParties(b.r1.share, b.r2.share, 1), 5],
  ['sign', () => signParties(k.custodian.share, k.client.share, new Uint8Array([1, 2, 3])), 3],
];

describe.each(MAKERS)('%s message decoders', (_name, make, n) => {
  it('random bytes in every receiving state → a typed error, never a crash', () => {
    for (let t = 0; t < n; t++) {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, keepFrame) => {
          const [p1, p2] = make();
          // Deliver random bytes as message t; with `keepFrame`, behind the right tag and role.
          const o = drive(p1, p2, (i, m) => (i === t ? (keepFrame ? new Uint8Array([m[0]!, m[1]!, ...bytes]) : bytes) : undefined));
          expect(o.error).toBeInstanceOf(TandemError);
          expect(['MALFORMED_MESSAGE', 'DKG_FAILED', 'SIGN_FAILED', 'BACKUP_FAILED', 'RECOVER_FAILED']).toContain(o.error?.code);
        }),
        { numRuns: 4 },
      );
    }
  });
});
