import { EncryptionAlgorithm, KEY_BYTES } from './algorithms';
import { asBuffer } from './encoding';
import { CryptoError } from './errors';
import { sodium } from './sodium';
import type { SecretKey } from './wire';

/** The KDF contexts enmeshed uses (libsodium needs exactly 8 ASCII characters). */
export const KdfContext = {
  requestKey: 'REQTMP01',
  requestorToTemplator: 'RELREQ01',
  templatorToRequestor: 'RELTEM01',
  secret: 'SECRET01',
  device: 'DEVICE01',
  datawallet: 'DataSync',
} as const;

/** libsodium crypto_kdf_derive_from_key (BLAKE2b): a 32-byte subkey of `baseKey`. */
export function deriveKey(baseKey: Uint8Array, subkeyId: number, context: string): SecretKey {
  if (!/^[\x20-\x7e]{8}$/.test(context)) {
    throw new CryptoError('crypto.kdf.invalidContext', 'KDF context must be exactly 8 printable ASCII characters');
  }
  if (baseKey.length !== KEY_BYTES) throw new CryptoError('crypto.key.invalidLength', 'KDF base key must be 32 bytes');
  if (!Number.isSafeInteger(subkeyId) || subkeyId < 0) {
    throw new CryptoError('crypto.object.invalid', 'KDF subkey id must be a non-negative integer');
  }
  const key = sodium().crypto_kdf_derive_from_key(KEY_BYTES, subkeyId, context, baseKey);
  return { key: asBuffer(key), alg: EncryptionAlgorithm.XCHACHA20_POLY1305 };
}
