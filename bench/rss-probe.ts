/**
 * Runs in a fresh process: how much does the resident set grow, at its peak, while our lib encrypts
 * (or decrypts) a file of the given size? Prints one JSON line. Linux lets a process reset its peak
 * RSS (VmHWM) by writing 5 to /proc/self/clear_refs, so the peak is measured over the operation
 * alone; elsewhere the lifetime maxRSS is used, which can only overstate the growth.
 */
import { randomBytes } from 'node:crypto';
import { peakRss, quiesce, resetPeak } from './peak-rss';

import { cryptoReady, decryptCipherJson, encryptToCipherJson, generateSecretKey } from '../lib/crypto';

async function main(): Promise<void> {
  const [mode, sizeText] = process.argv.slice(2);
  const size = Number(sizeText);
  await cryptoReady();
  const key = generateSecretKey();
  const plaintext = randomBytes(size);
  const blob = mode === 'decrypt' ? encryptToCipherJson(plaintext, key) : undefined;
  await quiesce();
  const before = process.memoryUsage().rss;
  const reset = resetPeak();
  const result = blob ? decryptCipherJson(blob, key) : encryptToCipherJson(plaintext, key);
  const peak = peakRss(reset);
  if (result.length === 0 && size > 0) throw new Error('no output');
  process.stdout.write(JSON.stringify({ mode, size, growth: Math.max(0, peak - before) }) + '\n');
}

void main();
