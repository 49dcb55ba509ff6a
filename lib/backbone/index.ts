/** lib/backbone: the Backbone Consumer API v2 client. No n8n imports, no crypto. */
export * from './errors';
export * from './http';
export * from './auth';
export * from './client';
export * from './events-stream';
export type * from './types';
