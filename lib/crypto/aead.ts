import { EncryptionAlgorithm, KEY_BYTES, MAX_COUNTER, NONCE_BYTES } from './algorithms';
import { CryptoError } from './errors';
import { randomBytes } from './random';
import { open, seal } from './xchacha';
import type { Cipher, SecretKey } from './wire';

/**
 * XChaCha20-Poly1305 (IETF AEAD, empty associated data), the only cipher enmeshed uses.
 * `cph` = ciphertext || 16-byte tag, exactly as libsodium returns it.
 *
 * Random-nonce mode everywhere except relationship states (message-key wrap and the creation
 * response), which use counter mode: the cipher carries `cnt` and the receiver rebuilds the nonce
 * from its stored base nonce. Reusing a (key, counter) pair is catastrophic; the counters are
 * owned by lib/state, never by callers of this module.
 */

type KeyInput = SecretKey | Uint8Array;

function rawKey(key: KeyInput): Uint8Array {
  const bytes = key instanceof Uint8Array ? key : key.key;
  if (!(key instanceof Uint8Array) && key.alg !== EncryptionAlgorithm.XCHACHA20_POLY1305) {
    throw new CryptoError('crypto.object.unsupportedAlgorithm', `encryption algorithm ${key.alg} is not supported`);
  }
  if (bytes.length !== KEY_BYTES) {
    throw new CryptoError('crypto.key.invalidLength', `secret key must be ${KEY_BYTES} bytes`);
  }
  return bytes;
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== NONCE_BYTES) {
    throw new CryptoError('crypto.key.invalidLength', `nonce must be ${NONCE_BYTES} bytes`);
  }
}

/** The nonce for `counter`: bytes 20..23 of the base nonce, read as u32 little-endian, plus counter mod 2^32. */
export function nonceForCounter(baseNonce: Uint8Array, counter: number): Buffer {
  checkNonce(baseNonce);
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new CryptoError('crypto.cipher.counterOutOfRange', 'counter must be an integer from 0 to 2^32-1');
  }
  const nonce = Buffer.from(baseNonce);
  nonce.writeUInt32LE((nonce.readUInt32LE(20) + counter) >>> 0, 20);
  return nonce;
}

export function encrypt(plaintext: Uint8Array, key: KeyInput, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Cipher {
  checkNonce(nonce);
  return { cph: seal(plaintext, rawKey(key), nonce), alg: EncryptionAlgorithm.XCHACHA20_POLY1305, nnc: nonce };
}

export function encryptWithCounter(plaintext: Uint8Array, key: KeyInput, baseNonce: Uint8Array, counter: number): Cipher {
  const nonce = nonceForCounter(baseNonce, counter);
  return { cph: seal(plaintext, rawKey(key), nonce), alg: EncryptionAlgorithm.XCHACHA20_POLY1305, cnt: counter };
}

/**
 * Decrypts a cipher. A counter-mode cipher needs the direction's base nonce; its own `cnt` is
 * used as is (receivers accept any counter, as the reference client does).
 */
export function decrypt(cipher: Cipher, key: KeyInput, baseNonce?: Uint8Array, what = 'cipher'): Buffer {
  if (cipher.alg !== EncryptionAlgorithm.XCHACHA20_POLY1305) {
    throw new CryptoError('crypto.object.unsupportedAlgorithm', `${what}: encryption algorithm ${cipher.alg} is not supported`);
  }
  let nonce: Uint8Array;
  if (cipher.nnc !== undefined && cipher.cnt === undefined) {
    nonce = cipher.nnc;
    checkNonce(nonce);
  } else if (cipher.cnt !== undefined && cipher.nnc === undefined) {
    if (!baseNonce) {
      throw new CryptoError('crypto.cipher.nonceOrCounter', `${what} is in counter mode; the base nonce of its direction is needed`);
    }
    nonce = nonceForCounter(baseNonce, cipher.cnt);
  } else {
    throw new CryptoError('crypto.cipher.nonceOrCounter', `${what} must carry exactly one of nonce and counter`);
  }
  return open(cipher.cph, rawKey(key), nonce, what);
}

export function generateSecretKey(): SecretKey {
  return { key: randomBytes(KEY_BYTES), alg: EncryptionAlgorithm.XCHACHA20_POLY1305 };
}

export function generateNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}
