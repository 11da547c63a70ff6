/**
 * Operator hooks: the app operator's say over recoveries and signatures. Here they are in-process
 * functions with permissive defaults so a fresh custodian works out of the box; the scale issue makes
 * them configurable per deployment (HTTP callbacks, step-up rules).
 */
import type { BackupMethodName, Curve } from '../types.js';

export type HookDecision = { readonly allow: true } | { readonly allow: false; readonly reason?: string };

export interface RecoveryContext {
  readonly walletId: string;
  readonly curve: Curve;
  readonly method: BackupMethodName;
  readonly backupPairId: string;
}

/** What a signing policy sees: public request data only. */
export interface SignRequestView {
  readonly kind: string;
  /** Hex of the digest to be signed (for typed kinds the server recomputes it before the hook runs). */
  readonly digest: string;
  readonly payload?: unknown;
}

export interface SigningContext {
  readonly walletId: string;
  readonly curve: Curve;
  readonly pairId: string;
  readonly request: SignRequestView;
}

export interface CustodianHooks {
  /** Called before any Recover session starts. Default: allow. */
  recoveryAuthorization(ctx: RecoveryContext): HookDecision | Promise<HookDecision>;
  /** Called before the custodian contributes its last signing round. Default: allow. */
  signingPolicy(ctx: SigningContext): HookDecision | Promise<HookDecision>;
}

export const DEFAULT_HOOKS: CustodianHooks = {
  recoveryAuthorization: () => ({ allow: true }),
  signingPolicy: () => ({ allow: true }),
};
