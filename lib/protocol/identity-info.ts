import { parseSignaturePublicKey, signaturePublicKeyToJson, type SignaturePublicKey } from '../crypto';
import { ProtocolError } from './errors';
import { cryptoJson } from './serialize';

/**
 * The `identity` field of signed transport wrappers (templates, relationship requests): the
 * signer's address and identity public key, which the receiver checks the signature against.
 */

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
