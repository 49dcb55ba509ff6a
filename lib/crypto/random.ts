import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** Cryptographically secure random bytes (the OS CSPRNG through node:crypto). */
export function randomBytes(length: number): Buffer {
  return nodeRandomBytes(length);
}
