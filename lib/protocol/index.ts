/** lib/protocol: what an enmeshed participant does. No n8n imports; the nodes call only this. */
export * from './errors';
export * from './identity';
export * from './onboarding';
export * from './participant';
export * from './references';
export * from './mail';
export * from './templates';
export * from './tokens';
export * from './relationships';
export * from './messages';
export * from './files';
export * from './sync';
export type { FileReference } from './file-reference';
export type { IdentityInfo } from './identity-info';
export * from './message-feed';
export * from './app';
export * from './attributes';
export * from './requests';
