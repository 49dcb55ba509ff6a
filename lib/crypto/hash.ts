import { createHash } from 'node:crypto';

/** SHA-256 / SHA-512 through node:crypto: libsodium's non-sumo build lacks SHA-256, and OpenSSL is faster. */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha512(data: Uint8Array | string): Buffer {
  return createHash('sha512').update(data).digest();
}

/** SHA-512 over data that arrives in pieces. */
export function sha512Stream(): { update(data: Uint8Array): void; digest(): Buffer } {
  const hash = createHash('sha512');
  return { update: (data) => void hash.update(data), digest: () => hash.digest() };
}
