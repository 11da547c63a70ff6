/**
 * Test doubles, clearly named: the SIMULATED MPC (not secure) and an in-process custodian over the real
 * custodian rules. For tests, examples and the simulated walk-through; never for production.
 */
export { simulatedClientMpc, simulatedCustodianMpc, simulatedCombine, type CustodianMpc } from './simulated-mpc.js';
export { MemoryCustodian, pump, type Fault, type CustodianCall, type MemoryCustodianOptions } from './memory-custodian.js';
