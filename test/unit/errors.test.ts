import { describe, expect, it } from 'vitest';
import { eip1193Code, ERROR_CODES, fromSerialized, isTandemError, TandemError, toTandemError } from '../../src/errors.js';

describe('TandemError', () => {
  it('formats the short message, the code and the details', () => {
    expect(new TandemError('NO_VALID_BACKUP', { details: { method: 'PASSWORD', curve: 'SECP256K1' } }).message).toMatchInlineSnapshot(`
      "No completed backup exists for this method. [NO_VALID_BACKUP]
        method: PASSWORD
        curve: SECP256K1"
    `);
    expect(new TandemError('OPERATION_IN_PROGRESS').message).toMatchInlineSnapshot(`"Another operation on this wallet is in progress. [OPERATION_IN_PROGRESS]"`);
    expect(new TandemError('STATE_INVALID', { message: 'Only a confirmed signing pair can sign.', details: { pairId: 'sig_1', status: 'SUSPENDED' } }).message)
      .toMatchInlineSnapshot(`
        "Only a confirmed signing pair can sign. [STATE_INVALID]
          pairId: sig_1
          status: SUSPENDED"
      `);
    expect(new TandemError('SHARE_REVOKED', { details: { curves: ['SECP256K1', 'ED25519'], skipped: undefined } }).message).toMatchInlineSnapshot(`
      "The signing share on this device was replaced by a recovery. [SHARE_REVOKED]
        curves: SECP256K1, ED25519"
    `);
  });

  it('keeps code, shortMessage, details and cause, and walks the cause chain', () => {
    const root = new Error('socket hang up');
    const mid = new TandemError('WS_CLOSED', { cause: root });
    const top = new TandemError('SIGN_FAILED', { cause: mid, details: { curve: 'ED25519' } });
    const rootSeen = mid.cause as Error;
    expect(top).toBeInstanceOf(Error);
    expect(top.name).toBe('TandemError');
    expect(top.code).toBe('SIGN_FAILED');
    expect(top.shortMessage).toBe('Signing failed.');
    expect(top.details).toEqual({ curve: 'ED25519' });
    expect(top.cause).toBe(mid);
    expect(top.walk()).toBe(rootSeen);
    expect(rootSeen.message).not.toContain('socket hang up');
    expect(top.walk((e) => isTandemError(e, 'WS_CLOSED'))).toBe(mid);
    expect(top.walk((e) => isTandemError(e, 'AUTH_FAILED'))).toBeUndefined();
  });

  it('serialises without the cause and round-trips', () => {
    const e = new TandemError('PAIR_LOCKED', { details: { pairId: 'sig_9' }, cause: new Error('secret-bearing text') });
    expect(JSON.stringify(e)).toMatchInlineSnapshot(`"{"code":"PAIR_LOCKED","message":"The share pair is locked; only the operator can unlock it.","details":{"pairId":"sig_9"}}"`);
    const back = fromSerialized(e.toJSON());
    expect(back).toMatchObject({ code: 'PAIR_LOCKED', details: { pairId: 'sig_9' }, shortMessage: e.shortMessage });
  });

  it('wraps foreign errors without repeating their text, which may hold secrets', () => {
    const foreign = new RangeError('invalid scalar 0x1234deadbeef');
    const wrapped = toTandemError(foreign, 'DKG_FAILED');
    expect(wrapped.code).toBe('DKG_FAILED');
    expect(wrapped.message).not.toContain('deadbeef');
    expect(wrapped.details).toEqual({ causeKind: 'RangeError' });
    // The cause keeps the class and the stack frames, never the text.
    expect(wrapped.cause).toBeInstanceOf(Error);
    expect((wrapped.cause as Error).name).toBe('RangeError');
    expect(String((wrapped.cause as Error).message) + String((wrapped.cause as Error).stack)).not.toContain('deadbeef');
    expect(toTandemError(wrapped)).toBe(wrapped);
  });

  it('maps to EIP-1193 codes, -32603 by default', () => {
    expect(eip1193Code(new TandemError('POLICY_REFUSED'))).toBe(4001);
    expect(eip1193Code(new TandemError('AUTH_FAILED'))).toBe(4100);
    expect(eip1193Code(new TandemError('WS_CLOSED'))).toBe(4900);
    expect(eip1193Code(new TandemError('DKG_FAILED'))).toBe(-32603);
  });

  it('has a short sentence for every code', () => {
    for (const [code, message] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z0-9_]+$/);
      expect(message).toMatch(/^[A-Z].*\.$/);
    }
  });
});
