/**
 * The password strength floor for the PASSWORD backup method (DESIGN §4). The custodian keeps the
 * custodian backup share *and* the password-wrapped data key, so it — or anyone who steals its database —
 * can guess passwords offline at the speed Argon2id allows; the floor keeps the cheapest guesses out.
 *
 * What it does, on the NFKC-normalised password (the same form the PASSWORD method feeds to Argon2id):
 * - TOO_SHORT: fewer than 12 Unicode code points.
 * - TOO_COMMON: after lower-casing, stripping leading and trailing digits and symbols and undoing a few
 *   look-alike substitutions (`p@ssw0rd`), the core is one of a few dozen very common passwords or that
 *   word repeated (`Password123!`, `passwordpassword`), or a run along a keyboard row (`qwertyuiop`).
 * - TOO_SIMPLE: a single repeated character, a step-by-one sequence (`abcdefghijkl`, `987654321098`), a
 *   short unit repeated (`abcabcabcabc`), or an estimate below 50 bits: log2 of the character classes used
 *   (lower 26, upper 26, digits 10, ASCII symbols and space 33, anything else 64) per code point, where
 *   the k-th occurrence of a code point counts 1/2^(k-1) (so one character, however often repeated, adds
 *   at most two characters' worth) and a step of ±1 from the previous one counts at most 1/2.
 *
 * What it does not catch: dictionary words and names in general, dates, leaked-password lists, words from
 * languages other than English, anything personal to the user. The estimate is a rough upper bound, not
 * a measurement. It is kept small and dependency-free on purpose (zxcvbn-style dictionaries are
 * hundreds of kilobytes in the client bundle); an app that wants more can check a breached-password
 * service before calling backup.
 */

/** Minimum length in Unicode code points, after NFKC normalisation. */
export const MIN_PASSWORD_LENGTH = 12;
/** Minimum estimated entropy in bits. */
export const MIN_PASSWORD_BITS = 50;

export type PasswordWeakness = 'TOO_SHORT' | 'TOO_COMMON' | 'TOO_SIMPLE';

export interface PasswordStrength {
  readonly ok: boolean;
  readonly reason?: PasswordWeakness;
  /** The estimate in whole bits (0 for an empty password). */
  readonly estimatedBits: number;
}

/** The form a password is checked and hashed in, so the same password typed on another device matches. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// Written naturally; compared in the same stripped form as the candidate.
const COMMON = [
  'password', 'passw0rd', 'mypassword', 'passphrase', 'secret', 'changeme', 'default', 'letmein',
  'welcome', 'hello', 'helloworld', 'iloveyou', 'admin', 'administrator', 'root', 'login', 'guest',
  'test', 'qwerty', 'abc', 'monkey', 'dragon', 'master', 'shadow', 'superman', 'batman', 'starwars',
  'football', 'baseball', 'soccer', 'sunshine', 'princess', 'trustno1', 'whatever', 'freedom',
  'summer', 'winter', 'spring', 'autumn', 'bitcoin', 'ethereum', 'crypto', 'wallet', 'tandem',
];

// Keyboard rows and columns (QWERTY, AZERTY, QWERTZ), searched forwards and backwards.
const WALKS = [
  'qwertyuiopasdfghjklzxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  'qwertzuiopasdfghjklyxcvbnm',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'zaq1xsw2cde3vfr4bgt5nhy6mju7',
].flatMap((w) => [w, [...w].reverse().join('')]);

const LOOK_ALIKES: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };

const strip = (password: string) => password.toLowerCase().replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
const core = (password: string) => [...strip(password)].map((c) => LOOK_ALIKES[c] ?? c).join('');

const COMMON_CORES = new Set(COMMON.map(core));

function isCommon(password: string): boolean {
  const c = core(password);
  for (const word of COMMON_CORES) {
    if (c.length > 0 && c.length % word.length === 0 && c === word.repeat(c.length / word.length)) return true;
  }
  const s = strip(password);
  return s.length >= 4 && WALKS.some((w) => w.includes(s));
}

function isSimple(cps: readonly number[]): boolean {
  const n = cps.length;
  // A unit repeated (a single character is the unit of length 1), possibly with a partial last copy:
  // the shortest period, from the KMP prefix function, is at most half the length. Linear, so a pasted
  // megabyte does not hang the check.
  const prefix = new Array<number>(n).fill(0);
  for (let i = 1, k = 0; i < n; i++) {
    while (k > 0 && cps[i] !== cps[k]) k = prefix[k - 1]!;
    if (cps[i] === cps[k]) k++;
    prefix[i] = k;
  }
  if (n > 0 && n - prefix[n - 1]! <= n / 2) return true;
  const step = (i: number) => cps[i]! - cps[i - 1]!;
  const digits = cps.every((c) => c >= 0x30 && c <= 0x39);
  const digitStep = (i: number) => (step(i) + 10) % 10;
  for (const d of [1, -1]) {
    let run = true;
    for (let i = 1; i < n && run; i++) run = step(i) === d || (digits && digitStep(i) === (d + 10) % 10);
    if (run) return true;
  }
  return false;
}

function charsetSize(cps: readonly number[]): number {
  const has = (test: (c: number) => boolean) => cps.some(test);
  let size = 0;
  if (has((c) => c >= 0x61 && c <= 0x7a)) size += 26;
  if (has((c) => c >= 0x41 && c <= 0x5a)) size += 26;
  if (has((c) => c >= 0x30 && c <= 0x39)) size += 10;
  if (has((c) => c >= 0x20 && c < 0x7f && !/[A-Za-z0-9]/.test(String.fromCodePoint(c)))) size += 33;
  if (has((c) => c >= 0x7f || c < 0x20)) size += 64;
  return size;
}

function estimateBits(cps: readonly number[]): number {
  if (cps.length === 0) return 0;
  const seen = new Map<number, number>();
  let effective = 0;
  cps.forEach((c, i) => {
    const k = (seen.get(c) ?? 0) + 1;
    seen.set(c, k);
    let weight = 2 ** (1 - k);
    if (i > 0 && Math.abs(c - cps[i - 1]!) === 1) weight = Math.min(weight, 1 / 2);
    effective += weight;
  });
  return Math.floor(effective * Math.log2(charsetSize(cps)));
}

/**
 * Checks a password against Tandem's strength floor (see the module comment for what that covers).
 *
 * @example
 * const s = checkPasswordStrength('password1234');
 * // { ok: false, reason: 'TOO_COMMON', estimatedBits: … }
 * if (!s.ok) showHint(s.reason);
 */
export function checkPasswordStrength(password: string): PasswordStrength {
  const normalized = normalizePassword(password);
  const cps = [...normalized].map((c) => c.codePointAt(0)!);
  const estimatedBits = estimateBits(cps);
  const weak = (reason: PasswordWeakness): PasswordStrength => ({ ok: false, reason, estimatedBits });
  if (cps.length < MIN_PASSWORD_LENGTH) return weak('TOO_SHORT');
  if (isCommon(normalized)) return weak('TOO_COMMON');
  if (isSimple(cps) || estimatedBits < MIN_PASSWORD_BITS) return weak('TOO_SIMPLE');
  return { ok: true, estimatedBits };
}
