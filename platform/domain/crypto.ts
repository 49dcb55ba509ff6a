/**
 * Ed25519 verification of signed challenges (§3.2) with node:crypto.
 * Keys and signatures arrive as base64url(JSON {"pub"|"sig": base64url raw, "alg": …}).
 */
import { createPublicKey, verify } from 'node:crypto';
import { decodeBase64Loose } from '../util';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function decodeJsonField(encoded: string, field: string): Buffer | undefined {
  const outer = decodeBase64Loose(encoded);
  if (!outer) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(outer.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!obj || typeof obj !== 'object') return undefined;
  const v = (obj as Record<string, unknown>)[field];
  if (typeof v !== 'string') return undefined;
  return decodeBase64Loose(v);
}

/** Raw 32-byte Ed25519 key out of a serialized CryptoSignaturePublicKey, or undefined. */
export function parsePublicKey(encoded: string): Buffer | undefined {
  const pub = decodeJsonField(encoded, 'pub');
  return pub && pub.length === 32 ? pub : undefined;
}

export function verifySignature(publicKey: Buffer, data: Buffer, encodedSignature: string): boolean {
  const sig = decodeJsonField(encodedSignature, 'sig');
  if (!sig || sig.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}
