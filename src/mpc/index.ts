/**
 * src/mpc: pure protocol code for two-party ECDSA on secp256k1 (ECDSA-2PC.md). No I/O, no timers, no
 * globals beyond per-process caches of constants, no Node built-ins: primes and fast arithmetic are
 * injected by the caller. This entry re-exports the building blocks; each file says why it is shaped so.
 */
export * from './assert.js';
export * from './bigint.js';
export * from './commitment.js';
export * from './curve.js';
export * from './encoding.js';
export * from './int-commitment.js';
export * from './keygen.js';
export * from './modexp.js';
export * from './oracle.js';
export * from './paillier.js';
export * from './pedersen.js';
export * from './pi-dl.js';
export * from './pi-eq.js';
export * from './pi-ic.js';
export * from './pi-n.js';
export * from './pi-pdl.js';
export * from './pi-range.js';
export * from './primes.js';
export * from './session.js';
export * from './share.js';
export * from './wire.js';
export * from './frost.js';
export * from './pi-sign.js';
export * from './presign.js';
export * from './sign.js';
export * from './sign-wire.js';
export * from './backup.js';
export * from './backup-share.js';
export * from './recover.js';
export { clientMpc, s4Request } from './client.js';
export { combineBackupShares, ejectedSecretHex, type EjectedKey } from './eject.js';
