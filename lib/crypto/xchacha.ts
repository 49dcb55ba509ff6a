import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createCipheriv, createDecipheriv, getCiphers, type CipherChaCha20Poly1305, type DecipherChaCha20Poly1305 } from 'node:crypto';
import { asBuffer } from './encoding';
import { CryptoError } from './errors';
import { hchacha20, sodium } from './sodium';

/**
 * XChaCha20-Poly1305 (IETF), byte-identical to libsodium's crypto_aead_xchacha20poly1305_ietf_*:
 *   subkey = HChaCha20(key, nonce[0..16]);  ChaCha20-Poly1305 (RFC 8439) with subkey and
 *   nonce 00000000 || nonce[16..24], empty associated data.
 *
 * Why not libsodium for the bulk: the WebAssembly build is about half as fast as OpenSSL's
 * ChaCha20-Poly1305 in node:crypto, and it can only work on whole buffers copied into its heap, so a
 * 7 MiB file costs two extra 7 MiB copies and a heap that never shrinks. OpenSSL streams, so files
 * are encrypted chunk by chunk. HChaCha20 still comes from libsodium. If the runtime lacks the
 * OpenSSL cipher (e.g. FIPS builds), everything falls back to libsodium one-shot calls.
 */

const CIPHER = 'chacha20-poly1305';
const TAG = 16;
export const nodeChaChaAvailable = getCiphers().includes(CIPHER);

function subkeyAndIv(key: Uint8Array, nonce: Uint8Array): { subkey: Buffer; iv: Buffer } {
  const subkey = asBuffer(hchacha20(nonce.subarray(0, 16), key));
  const iv = Buffer.alloc(12);
  iv.set(nonce.subarray(16, 24), 4);
  return { subkey, iv };
}

/** A streaming encryptor: feed plaintext chunks, then `finish()` returns the 16-byte tag. */
export interface SealStream {
  update(chunk: Uint8Array): Buffer;
  finish(): Buffer;
}

export function sealStream(key: Uint8Array, nonce: Uint8Array): SealStream {
  const { subkey, iv } = subkeyAndIv(key, nonce);
  const cipher = createCipheriv(CIPHER, subkey, iv, { authTagLength: TAG }) as CipherChaCha20Poly1305;
  subkey.fill(0);
  return {
    update: (chunk) => cipher.update(chunk),
    finish: () => {
      cipher.final();
      return cipher.getAuthTag();
    },
  };
}

/** A streaming decryptor. Plaintext from `update` is unauthenticated until `finish()` returns. */
export interface OpenStream {
  update(chunk: Uint8Array): Buffer;
  /** Throws CryptoError when the tag does not verify. */
  finish(what: string): void;
}

export function openStream(key: Uint8Array, nonce: Uint8Array, tag: Uint8Array): OpenStream {
  const { subkey, iv } = subkeyAndIv(key, nonce);
  const decipher = createDecipheriv(CIPHER, subkey, iv, { authTagLength: TAG }) as DecipherChaCha20Poly1305;
  subkey.fill(0);
  decipher.setAuthTag(tag);
  return {
    update: (chunk) => decipher.update(chunk),
    finish: (what) => {
      try {
        decipher.final();
      } catch {
        throw decryptionFailed(what);
      }
    },
  };
}

/**
 * Hands the memory of a buffer that node:crypto just returned back to the allocator at once.
 * Every `update()` returns a fresh buffer; copied into place, it is garbage that V8 frees only at its
 * next collection, and a loop over a 7 MiB file piles up a file-sized heap of such chunks before one
 * happens (measured: the peak RSS of encrypting into a pre-sized buffer went from 1.0× to 2.0× the
 * file). Detaching the ArrayBuffer frees it immediately: `ArrayBuffer.prototype.transfer` (Node 22+)
 * or, on Node 20, transferring it in a message to a closed MessagePort — the transfer detaches it
 * and the message, with the memory, is dropped. Only a buffer that owns its whole ArrayBuffer is
 * released: node:crypto's outputs do (slices of Buffer's shared pool never do), and the caller must
 * hold no other view of it.
 */
const transfer = (ArrayBuffer.prototype as { transfer?: (length?: number) => ArrayBuffer }).transfer;
let closedPort: MessagePort | undefined;

export function release(chunk: Buffer): void {
  if (chunk.length === 0 || chunk.byteOffset !== 0 || chunk.buffer.byteLength !== chunk.length) return;
  if (transfer) {
    transfer.call(chunk.buffer, 0);
    return;
  }
  if (!closedPort) {
    closedPort = new MessageChannel().port1;
    closedPort.close();
  }
  try {
    closedPort.postMessage(null, [chunk.buffer as ArrayBuffer]);
  } catch {
    // not transferable: it stays garbage for V8 to collect
  }
}

/**
 * Decrypts `data` (ciphertext without the tag) where it lies, in steps of `step` bytes, so no
 * second buffer of its size exists. Throws CryptoError, with `data` zeroed, when the tag does not
 * verify: nothing unauthenticated is left behind.
 */
export function openInPlace(data: Buffer, key: Uint8Array, nonce: Uint8Array, tag: Uint8Array, what: string, step = 48 * 1024): void {
  if (!nodeChaChaAvailable) {
    // Fallback: one shot through libsodium (same result, a second copy for a moment).
    const plaintext = open(Buffer.concat([data, tag]), key, nonce, what);
    plaintext.copy(data);
    plaintext.fill(0);
    return;
  }
  const stream = openStream(key, nonce, tag);
  for (let offset = 0; offset < data.length; offset += step) {
    const piece = stream.update(data.subarray(offset, offset + step));
    piece.copy(data, offset);
    release(piece);
  }
  try {
    stream.finish(what);
  } catch (error) {
    data.fill(0);
    throw error;
  }
}

export function decryptionFailed(what: string): CryptoError {
  return new CryptoError(
    'crypto.cipher.decryptionFailed',
    `${what} could not be decrypted: wrong key or nonce, or the ciphertext or tag was changed`,
  );
}

/** One-shot encryption: ciphertext || tag. */
export function seal(plaintext: Uint8Array, key: Uint8Array, nonce: Uint8Array): Buffer {
  if (!nodeChaChaAvailable) {
    return asBuffer(sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, null, null, nonce, key));
  }
  const out = Buffer.allocUnsafe(plaintext.length + TAG);
  const stream = sealStream(key, nonce);
  const body = stream.update(plaintext);
  body.copy(out, 0);
  stream.finish().copy(out, plaintext.length);
  return out;
}

/** One-shot decryption of ciphertext || tag; nothing is returned unless the tag verifies. */
export function open(sealed: Uint8Array, key: Uint8Array, nonce: Uint8Array, what: string): Buffer {
  if (sealed.length < TAG) throw decryptionFailed(what);
  if (!nodeChaChaAvailable) {
    try {
      return asBuffer(sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, null, nonce, key));
    } catch {
      throw decryptionFailed(what);
    }
  }
  const split = sealed.length - TAG;
  const stream = openStream(key, nonce, sealed.subarray(split));
  const plaintext = stream.update(sealed.subarray(0, split));
  try {
    stream.finish(what);
  } catch (error) {
    plaintext.fill(0);
    throw error;
  }
  return plaintext;
}
