/** lib/crypto: the wire-compatible crypto of enmeshed (@nmshd/crypto 2.1.3). No n8n imports. */
export * from './algorithms';
export * from './errors';
export * from './encoding';
export { cryptoReady } from './sodium';
export * from './wire';
export * from './aead';
export * from './cipher-json';
export * from './signature';
export * from './exchange';
export * from './kdf';
export * from './hash';
export * from './password';
export * from './random';
export * from './address';
