/**
 * ED25519 for Tandem: two-of-two FROST (RFC 9591) on noble's `ed25519_FROST`, in the same pure party
 * shape as ECDSA-2PC (custodian = P1 = identifier 1, client = P2 = identifier 2). One entry for the
 * whole curve, so src/mpc/index.ts can re-export it in one line:
 *
 * - frost-dkg.ts      keygen (five messages, commit–reveal) and the re-sharing engine
 * - frost-reshare.ts  Backup and Recover: re-sharings that keep the interpolated key
 * - frost-sign.ts     signing (three messages), strict RFC 8032 verification, single-use nonces
 * - frost-share.ts    versioned share bytes
 * - frost-dl.ts       the session-bound Schnorr proof of a new verifying share
 * - frost-curve.ts    point and scalar checks, identifiers, Lagrange coefficients
 * - frost-session.ts  message frame, session ids, abort discipline
 *
 * An ejected ED25519 key is a scalar x (λ_1·s_1 + λ_2·s_2), not an RFC 8032 seed: it signs with
 * FROST's `sign(msg, x)` or any Ed25519 implementation that accepts an expanded scalar, not with a
 * wallet that expects a 32-byte seed.
 *
 * @example
 * import { createFrostKeygenP1, createFrostSignP2 } from './frost.js';
 */
export * from './frost-curve.js';
export * from './frost-dkg.js';
export * from './frost-dl.js';
export * from './frost-reshare.js';
export * from './frost-session.js';
export * from './frost-share.js';
export * from './frost-sign.js';
