/**
 * The work the wire format requires of a download, primitive by primitive, with node:crypto on
 * this machine: what ours / plain HTTP (BENCHMARKS.md, "Files end to end") cannot go below when the
 * client and the local Platform share one thread. A download of an n-byte file receives a blob of
 * ~1.33 n (base64 of the ciphertext), hashes it (SHA-512, the Platform's cipherHash), decodes it,
 * decrypts n bytes and hashes the plaintext (SHA-512, the hash its owner signed); an upload does the
 * same in the other direction. Plain HTTP moves n bytes and does nothing else.
 *
 *   node -r ts-node/register/transpile-only bench/crypto-floor.ts
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { MiB, median, now } from './setup';

function time(fn: () => void, runs = 9): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = now();
    fn();
    times.push(now() - t);
  }
  return median(times);
}

for (const size of [1, 7]) {
  const plaintext = randomBytes(size * MiB);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  const blob = Buffer.from(ciphertext.toString('base64'));
  const steps: [string, number][] = [
    [`SHA-512 of the blob (${(blob.length / 1e6).toFixed(1)} MB)`, time(() => createHash('sha512').update(blob).digest())],
    ['base64 decode into one buffer', time(() => Buffer.allocUnsafe(ciphertext.length).write(blob.toString('latin1'), 'base64'))],
    ['ChaCha20-Poly1305 decrypt', time(() => {
      const d = createDecipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
      d.setAuthTag(tag);
      d.update(ciphertext);
      d.final();
    })],
    [`SHA-512 of the plaintext (${(plaintext.length / 1e6).toFixed(1)} MB)`, time(() => createHash('sha512').update(plaintext).digest())],
    ['(for scale: one copy of the blob)', time(() => Buffer.from(blob))],
  ];
  console.log(`${size} MiB file`);
  for (const [name, ms] of steps) console.log(`  ${name.padEnd(40)} ${ms.toFixed(2).padStart(7)} ms`);
  const required = steps.slice(0, 4).reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`  ${'required by the format, in all'.padEnd(40)} ${required.toFixed(2).padStart(7)} ms`);
}
