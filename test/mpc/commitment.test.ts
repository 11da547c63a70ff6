import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { commit, verifyOpening } from '../../src/mpc/commitment.js';
import { decodePoint, G } from '../../src/mpc/curve.js';
import { errorCode, expectError, fixed, vectors } from './helpers.js';

const v = vectors.commitment;
const ctxSid = hexToBytes(v.ctxSid);
const pid = hexToBytes(v.pid);
const Q1 = decodePoint(hexToBytes(v.Q1), 'Q1');

describe('labelled commitments (§1.7)', () => {
  it('the committed vector opens', () => {
    verifyOpening(hexToBytes(v.commitment), hexToBytes(v.u), v.label, ctxSid, pid, [Q1], 'DKG_FAILED');
  });

  it('an honest commitment opens, and nothing else does', () => {
    const { commitment, u } = commit('dkg/Q1', ctxSid, pid, [Q1]);
    verifyOpening(commitment, u, 'dkg/Q1', ctxSid, pid, [Q1], 'DKG_FAILED');
    const bad = (f: () => void): void => expectError(f, 'DKG_FAILED', 'commitment opens');
    bad(() => verifyOpening(commitment, u, 'dkg/Q2', ctxSid, pid, [Q1], 'DKG_FAILED'));
    bad(() => verifyOpening(commitment, u, 'dkg/Q1', fixed(16, 9), pid, [Q1], 'DKG_FAILED'));
    bad(() => verifyOpening(commitment, u, 'dkg/Q1', ctxSid, fixed(16, 9), [Q1], 'DKG_FAILED'));
    bad(() => verifyOpening(commitment, u, 'dkg/Q1', ctxSid, pid, [G], 'DKG_FAILED'));
    bad(() => verifyOpening(commitment, u, 'dkg/Q1', ctxSid, pid, [[Q1]], 'DKG_FAILED'));
    bad(() => verifyOpening(commitment, fixed(32, 0), 'dkg/Q1', ctxSid, pid, [Q1], 'DKG_FAILED'));
  });

  it('a key of any length but 32 bytes is malformed, so u‖00 cannot open what u opens', () => {
    const { commitment, u } = commit('sign/R1', ctxSid, pid, [Q1]);
    expectError(() => verifyOpening(commitment, concatBytes(u, new Uint8Array(1)), 'sign/R1', ctxSid, pid, [Q1], 'SIGN_FAILED'), 'MALFORMED_MESSAGE');
    expectError(() => verifyOpening(commitment, u.slice(0, 31), 'sign/R1', ctxSid, pid, [Q1], 'SIGN_FAILED'), 'MALFORMED_MESSAGE');
    expectError(() => verifyOpening(commitment.slice(1), u, 'sign/R1', ctxSid, pid, [Q1], 'SIGN_FAILED'), 'MALFORMED_MESSAGE');
    expectError(() => commit('x', fixed(20, 0), pid, []), 'MALFORMED_MESSAGE');
    expectError(() => commit('x', ctxSid, fixed(17, 0), []), 'MALFORMED_MESSAGE');
  });

  it('a flipped bit anywhere in commitment or key fails to open (property)', () => {
    const { commitment, u } = commit('backup/delta', ctxSid, pid, [123n]);
    fc.assert(
      fc.property(fc.nat({ max: 64 * 8 - 1 }), (bitIndex) => {
        const both = concatBytes(commitment, u);
        both[bitIndex >> 3]! ^= 1 << (bitIndex & 7);
        const code = errorCode(() =>
          verifyOpening(both.slice(0, 32), both.slice(32), 'backup/delta', ctxSid, pid, [123n], 'BACKUP_FAILED'),
        );
        expect(code).toBe('BACKUP_FAILED');
      }),
      { numRuns: 200 },
    );
  });
});
