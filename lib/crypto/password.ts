import { asBuffer, utf8 } from './encoding';
import { CryptoError } from './errors';
import { sodium } from './sodium';

/** Argon2id parameters of enmeshed password-protected templates and tokens. */
export const PASSWORD_HASH = { bytes: 32, opslimit: 3, memlimit: 20 * 1024 * 1024, saltBytes: 16 } as const;

/** The hash the Backbone compares (sent as standard padded base64). */
export function hashPassword(password: string, salt: Uint8Array): Buffer {
  if (salt.length !== PASSWORD_HASH.saltBytes) {
    throw new CryptoError('crypto.key.invalidLength', `password salt must be ${PASSWORD_HASH.saltBytes} bytes`);
  }
  const s = sodium();
  return asBuffer(
    s.crypto_pwhash(PASSWORD_HASH.bytes, utf8(password), salt, PASSWORD_HASH.opslimit, PASSWORD_HASH.memlimit, s.crypto_pwhash_ALG_ARGON2ID13),
  );
}
