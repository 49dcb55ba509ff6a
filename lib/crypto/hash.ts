import { createHash } from 'node:crypto';

/** SHA-256 / SHA-512 through node:crypto: libsodium's non-sumo build lacks SHA-256, and OpenSSL is faster. */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha512(data: Uint8Array | string): Buffer {
  return createHash('sha512').update(data).digest();
}
