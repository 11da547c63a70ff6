/** The custodian's rules over a store interface, with the in-memory store. Server-side only. */
export { CustodianRules, type CustodianRulesOptions, type Lease, type PresignatureUse } from './rules.js';
export { MemoryStore } from './memory-store.js';
export * from './store.js';
export * from './hooks.js';
