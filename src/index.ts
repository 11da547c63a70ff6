/** Tandem's client entry: the wallet facade and machine, the ports, the errors and the vocabulary. */
export * from './types.js';
export * from './errors.js';
export * from './machines/index.js';
export * from './adapters/index.js';
