/**
 * Attributes, kept in the datawallet (store.ts): our own identity attributes (own.ts) and what we
 * know about attributes with each peer (peer.ts). Requests change them (lib/protocol/requests).
 */
export { ATTRIBUTES, MAX_RECORDS, attributeChanges, knownAttributes, peerObjectId } from './store';
export * from './own';
export * from './peer';
