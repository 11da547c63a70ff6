import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPasswordStrength, MIN_PASSWORD_BITS, MIN_PASSWORD_LENGTH } from '../../src/adapters/password-strength.js';

describe('checkPasswordStrength', () => {
  it('exports its floor', () => {
    expect([MIN_PASSWORD_LENGTH, MIN_PASSWORD_BITS]).toEqual([12, 50]);
  });

  it.each([
    ['', 'TOO_SHORT'],
    ['Xk#9vQ!m2Lp', 'TOO_SHORT'],
    // Twelve UTF-16 code units but six code points: length is counted in code points.
    ['🔑🦊🌋🎲🧭🪐', 'TOO_SHORT'],
    ['password1234', 'TOO_COMMON'],
    ['Password2024!', 'TOO_COMMON'],
    ['!!Password!!!', 'TOO_COMMON'],
    ['P@ssw0rd_1999', 'TOO_COMMON'],
    ['passwordpassword', 'TOO_COMMON'],
    ['iloveyou12345', 'TOO_COMMON'],
    ['Qwertyuiop123', 'TOO_COMMON'],
    ['1qaz2wsx3edc4rfv', 'TOO_COMMON'],
    ['asdfghjkl;12', 'TOO_COMMON'],
    ['aaaaaaaaaaaaaaaa', 'TOO_SIMPLE'],
    ['abcdefghijklmnop', 'TOO_SIMPLE'],
    ['9876543210987654', 'TOO_SIMPLE'],
    ['123456789012', 'TOO_SIMPLE'],
    ['abcabcabcabcab', 'TOO_SIMPLE'],
    ['Xy7!Xy7!Xy7!Xy7!', 'TOO_SIMPLE'],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaab', 'TOO_SIMPLE'],
    ['482915736104', 'TOO_SIMPLE'],
    ['horsebattery', 'TOO_SIMPLE'],
  ] as const)('refuses %j as %s', (password, reason) => {
    const s = checkPasswordStrength(password);
    expect(s).toMatchObject({ ok: false, reason });
    expect(s.estimatedBits).toBeGreaterThanOrEqual(0);
  });

  it.each(['correct horse battery staple', 'Tr0ub4dor&3-xkcd', 'mK8#qZ2!vR5@', 'Crème brûlée à la carte!', 'Ωμέγα-λάμβδα 2024'])('accepts %j', (password) => {
    const s = checkPasswordStrength(password);
    expect(s).toEqual({ ok: true, estimatedBits: s.estimatedBits });
    expect(s.estimatedBits).toBeGreaterThanOrEqual(MIN_PASSWORD_BITS);
  });

  it('measures the NFKC form: composed and decomposed accents, full-width letters', () => {
    const composed = 'Crème brûlée à la carte!';
    expect(checkPasswordStrength(composed.normalize('NFD'))).toEqual(checkPasswordStrength(composed));
    // Full-width ＰＡＳＳＷＯＲＤ folds to PASSWORD under NFKC, so it is as common as the ASCII one.
    expect(checkPasswordStrength('ＰＡＳＳＷＯＲＤ2024!')).toMatchObject({ ok: false, reason: 'TOO_COMMON' });
    // Eleven letters plus a decomposed é: twelve code points once composed, so still too short.
    expect(checkPasswordStrength('Xk#9vQ!m2Lp'.slice(0, 10) + 'e\u0301')).toMatchObject({ reason: 'TOO_SHORT' });
  });

  it('penalises repeats: more of the same character adds little', () => {
    const base = checkPasswordStrength('mK8#qZ2!vR5@').estimatedBits;
    expect(checkPasswordStrength('mK8#qZ2!vR5@mmmmmmmm').estimatedBits - base).toBeLessThan(8);
    expect(checkPasswordStrength('mK8#qZ2!vR5@xT4%').estimatedBits - base).toBeGreaterThan(20);
  });

  it('is total and consistent on any string, and linear on a long one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (password) => {
        const s = checkPasswordStrength(password);
        expect(Number.isInteger(s.estimatedBits) && s.estimatedBits >= 0).toBe(true);
        expect(s.ok).toBe(s.reason === undefined);
        if (s.ok) expect(s.estimatedBits).toBeGreaterThanOrEqual(MIN_PASSWORD_BITS);
        if ([...password.normalize('NFKC')].length < MIN_PASSWORD_LENGTH) expect(s.reason).toBe('TOO_SHORT');
      }),
      { numRuns: 500 },
    );
    expect(checkPasswordStrength('a'.repeat(100_000) + 'b')).toMatchObject({ ok: false, reason: 'TOO_SIMPLE' });
  });
});
