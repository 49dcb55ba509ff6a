import {
  parseSecretKey,
  parseSignaturePublicKey,
  secretKeyToJson,
  signaturePublicKeyToJson,
  type SecretKey,
  type SignaturePublicKey,
} from '../crypto';
import { ProtocolError } from './errors';
import { cryptoJson } from './serialize';

/** Small transport wrapper pieces shared by templates, relationships and messages. */

export interface IdentityInfo {
  address: string;
  publicKey: SignaturePublicKey;
}

export function identityJson(identity: IdentityInfo): Record<string, unknown> {
  return { address: identity.address, publicKey: cryptoJson(signaturePublicKeyToJson(identity.publicKey, false)) };
}

export function parseIdentityInfo(value: unknown, what: string): IdentityInfo {
  const v = value as { address?: unknown; publicKey?: unknown } | undefined;
  if (!v || typeof v.address !== 'string') throw new ProtocolError('protocol.relationship.invalid', `${what} has no identity address`);
  return { address: v.address, publicKey: parseSignaturePublicKey(v.publicKey, `${what}.publicKey`) };
}

/** A reference to a file: its id, the key of its metadata, and where it lives. */
export interface FileReference {
  id: string;
  key: SecretKey;
  backboneBaseUrl: string;
}

export function fileReferenceJson(ref: FileReference): Record<string, unknown> {
  return { backboneBaseUrl: ref.backboneBaseUrl, id: ref.id, key: cryptoJson(secretKeyToJson(ref.key, false)) };
}

export function parseFileReferenceJson(value: unknown, what = 'file reference'): FileReference {
  const v = value as { id?: unknown; key?: unknown; backboneBaseUrl?: unknown } | undefined;
  if (!v || typeof v.id !== 'string' || !/^FIL[A-Za-z0-9]{17}$/.test(v.id)) {
    throw new ProtocolError('protocol.reference.invalid', `${what} has no valid file id`);
  }
  return { id: v.id, key: parseSecretKey(v.key, `${what}.key`), backboneBaseUrl: typeof v.backboneBaseUrl === 'string' ? v.backboneBaseUrl : '' };
}

export function parseJsonText(text: string, what: string, code: ConstructorParameters<typeof ProtocolError>[0], objectId?: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ProtocolError(code, `${what} is not a JSON object`, objectId);
}
