import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import {
  backupSid,
  derivePid,
  dkgSid,
  freshContribution,
  recoverSid,
  refreshSid,
  rejectCode,
  signSid,
} from '../../src/mpc/session.js';
import { errorCode, fixed, vectors } from './helpers.js';

const s = vectors.session;
const pid1 = hexToBytes(s.pid1);
const pid2 = hexToBytes(s.pid2);
const c1 = hexToBytes(s.c1);
const c2 = hexToBytes(s.c2);
const walletKeyId = hexToBytes(s.walletKeyId);
const pairId = hexToBytes(s.pairId);

describe('identities and session ids (§1.8)', () => {
  it('pid = RO_128(label "pid", identity)', () => {
    expect(bytesToHex(derivePid(utf8ToBytes(s.identity1)))).toBe(s.pid1);
    expect(bytesToHex(derivePid(utf8ToBytes(s.identity2)))).toBe(s.pid2);
    expect(errorCode(() => derivePid(new Uint8Array(0)))).toBe('MALFORMED_MESSAGE');
  });

  it('each sid derivation matches its vector', () => {
    expect(bytesToHex(dkgSid({ epoch: 0, pid1, pid2, sid1: c1, sid2: c2 }))).toBe(s.dkgSidEpoch0);
    expect(bytesToHex(signSid({ walletKeyId, pairId, epoch: 3, pid1, pid2, rndP1: c1, rndP2: c2 }))).toBe(s.signSid);
    expect(
      bytesToHex(backupSid({ walletKeyId, pairId, epoch: 3, method: 'PASSKEY', pid1, pid2, rndP1: c1, rndP2: c2 })),
    ).toBe(s.backupSid);
    expect(
      bytesToHex(recoverSid({ walletKeyId, backupPairId: pairId, epoch: 3, pid1, pid2, rndP1: c1, rndP2: c2 })),
    ).toBe(s.recoverSid);
    expect(bytesToHex(refreshSid({ walletKeyId, pairId, epoch: 3, pid1, pid2, rndP1: c1, rndP2: c2 }))).toBe(s.refreshSid);
  });

  it('a contribution of any length other than 16 bytes is malformed', () => {
    for (const n of [0, 15, 17, 32]) {
      expect(errorCode(() => dkgSid({ epoch: 0, pid1, pid2, sid1: fixed(n, 1), sid2: c2 }))).toBe('MALFORMED_MESSAGE');
      expect(errorCode(() => dkgSid({ epoch: 0, pid1, pid2, sid1: c1, sid2: fixed(n, 1) }))).toBe('MALFORMED_MESSAGE');
      expect(errorCode(() => signSid({ walletKeyId, pairId, epoch: 0, pid1, pid2, rndP1: c1, rndP2: fixed(n, 1) }))).toBe(
        'MALFORMED_MESSAGE',
      );
    }
    expect(errorCode(() => dkgSid({ epoch: 0, pid1: fixed(15, 0), pid2, sid1: c1, sid2: c2 }))).toBe('MALFORMED_MESSAGE');
    expect(
      errorCode(() => signSid({ walletKeyId: fixed(31, 0), pairId, epoch: 0, pid1, pid2, rndP1: c1, rndP2: c2 })),
    ).toBe('MALFORMED_MESSAGE');
    expect(
      errorCode(() =>
        // @ts-expect-error: not a backup method
        backupSid({ walletKeyId, pairId, epoch: 0, method: 'NOPE', pid1, pid2, rndP1: c1, rndP2: c2 }),
      ),
    ).toBe('MALFORMED_MESSAGE');
    expect(freshContribution()).toHaveLength(16);
  });

  it('every input changes the sid; swapping the parties’ contributions or pids changes it (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat({ max: 1000 }),
        (a, b, epoch) => {
          fc.pre(bytesToHex(a) !== bytesToHex(b));
          const base = bytesToHex(dkgSid({ epoch, pid1, pid2, sid1: a, sid2: b }));
          expect(bytesToHex(dkgSid({ epoch, pid1, pid2, sid1: b, sid2: a }))).not.toBe(base);
          expect(bytesToHex(dkgSid({ epoch, pid1: pid2, pid2: pid1, sid1: a, sid2: b }))).not.toBe(base);
          expect(bytesToHex(dkgSid({ epoch: epoch + 1, pid1, pid2, sid1: a, sid2: b }))).not.toBe(base);
          // different protocols never share a sid for the same contributions
          const sign = bytesToHex(signSid({ walletKeyId, pairId, epoch, pid1, pid2, rndP1: a, rndP2: b }));
          const refresh = bytesToHex(refreshSid({ walletKeyId, pairId, epoch, pid1, pid2, rndP1: a, rndP2: b }));
          const recover = bytesToHex(recoverSid({ walletKeyId, backupPairId: pairId, epoch, pid1, pid2, rndP1: a, rndP2: b }));
          expect(new Set([base, sign, refresh, recover]).size).toBe(4);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('maps each protocol to its failure code', () => {
    expect(rejectCode('dkg')).toBe('DKG_FAILED');
    expect(rejectCode('sign')).toBe('SIGN_FAILED');
    expect(rejectCode('backup')).toBe('BACKUP_FAILED');
    expect(rejectCode('recover')).toBe('RECOVER_FAILED');
    expect(rejectCode('refresh')).toBe('DKG_FAILED');
  });
});
