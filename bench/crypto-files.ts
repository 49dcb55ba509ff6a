/**
 * File crypto, side by side on the same bytes: raw libsodium (the XChaCha20-Poly1305 call alone),
 * our lib (encrypt + write the upload blob; read the blob + decrypt) and @nmshd/crypto 2.1.3
 * (encrypt + serialize; parse + decrypt), for 1 MiB and 7 MiB. Plus our peak RSS growth, measured
 * in a fresh process per case.
 */
import * as nmshd from '@nmshd/crypto';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { probeEnv } from './peak-rss';
import sodium from 'libsodium-wrappers-sumo';
import { cryptoReady, decryptCipherJson, encryptToCipherJson, generateSecretKey, toBase64Url } from '../lib/crypto';

const MiB = 1024 * 1024;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function time(runs: number, fn: () => unknown): Promise<number> {
  await fn(); // warm-up
  gc(); // start every series from a collected heap so earlier garbage is not billed to it
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

function probe(mode: 'encrypt' | 'decrypt', size: number): number {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'rss-probe.ts'), mode, String(size)],
    { encoding: 'utf8', cwd: path.join(__dirname, '..'), env: probeEnv },
  );
  return (JSON.parse(out.trim().split('\n').pop()!) as { growth: number }).growth;
}

export interface FileCryptoRow {
  size: number;
  op: 'encrypt' | 'decrypt';
  rawMs: number;
  oursMs: number;
  nmshdMs: number;
}

export async function benchFileCrypto(quick: boolean): Promise<{ rows: FileCryptoRow[]; rss: Record<string, number> }> {
  await cryptoReady();
  await sodium.ready;
  await nmshd.SodiumWrapper.ready();
  const rows: FileCryptoRow[] = [];
  const rss: Record<string, number> = {};
  for (const size of [1 * MiB, 7 * MiB]) {
    const plaintext = randomBytes(size);
    const key = generateSecretKey();
    const nonce = randomBytes(24);
    const theirKey = nmshd.CryptoSecretKey.fromJSON({ key: toBase64Url(key.key), alg: 3 } as never);
    const runs = quick ? 3 : 7;
    const nmshdRuns = size > MiB || quick ? 1 : 3;

    const rawCipher = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, null, null, nonce, key.key);
    const ourBlob = encryptToCipherJson(plaintext, key);
    const theirBlob = Buffer.from((await nmshd.CryptoEncryption.encrypt(nmshd.CoreBuffer.from(plaintext), theirKey)).serialize(), 'utf8');

    rows.push({
      size,
      op: 'encrypt',
      rawMs: await time(runs, () => sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, null, null, nonce, key.key)),
      oursMs: await time(runs, () => encryptToCipherJson(plaintext, key)),
      nmshdMs: await time(nmshdRuns, async () =>
        Buffer.from((await nmshd.CryptoEncryption.encrypt(nmshd.CoreBuffer.from(plaintext), theirKey)).serialize(), 'utf8'),
      ),
    });
    rows.push({
      size,
      op: 'decrypt',
      rawMs: await time(runs, () => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, rawCipher, null, nonce, key.key)),
      oursMs: await time(runs, () => decryptCipherJson(ourBlob, key)),
      nmshdMs: await time(nmshdRuns, () =>
        nmshd.CryptoEncryption.decrypt(nmshd.CryptoCipher.fromJSON(JSON.parse(theirBlob.toString('utf8'))), theirKey),
      ),
    });
    rss[`${size / MiB}MiB_encrypt`] = probe('encrypt', size) / size;
    rss[`${size / MiB}MiB_decrypt`] = probe('decrypt', size) / size;
  }
  return { rows, rss };
}
