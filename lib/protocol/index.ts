/** lib/protocol: what an enmeshed participant does. No n8n imports; the nodes call only this. */
export * from './errors';
export * from './identity';
export * from './onboarding';
export * from './participant';
export * from './references';
export * from './content';
export * from './templates';
export * from './tokens';
export * from './relationships';
export * from './messages';
export * from './files';
export * from './sync';
export type { FileReference, IdentityInfo } from './wrappers';
export type { ProtocolContext } from './context';
export * from './message-feed';
