/**
 * Runs in a fresh process: how much does the resident set grow, at its peak, while our client
 * uploads (encrypt + upload) or downloads (download + decrypt + hash checks) one file through the
 * Platform? The Platform runs in the parent; this process is only the client. Prints one JSON line.
 *
 *   e2e-rss-probe.ts upload <size> <credential JSON>
 *   e2e-rss-probe.ts download <size> <credential JSON> <truncated file reference>
 *
 * Login and a small warm-up transfer happen before the measurement, so the figure is the file
 * operation alone. The peak mark is reset through /proc/self/clear_refs (Linux), as rss-probe.ts does.
 */
import { randomBytes } from 'node:crypto';
import { peakRss, quiesce, resetPeak } from './peak-rss';
import { downloadFile, openParticipant, parseReference, uploadFile, type FileReference } from '../lib/protocol';


async function main(): Promise<void> {
  const [mode, sizeText, credentialText, referenceText] = process.argv.slice(2);
  const size = Number(sizeText);
  const participant = await openParticipant(JSON.parse(credentialText), { shared: false });
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
  // Warm-up: login, and the whole code path once with a small file.
  const warm = await uploadFile(participant, { content: randomBytes(4096), filename: 'warm.bin', mimetype: 'application/octet-stream', expiresAt });
  await downloadFile(participant, warm.reference);

  const plaintext = mode === 'upload' ? randomBytes(size) : undefined;
  let reference: FileReference | undefined;
  if (mode === 'download') {
    const parsed = parseReference(referenceText);
    reference = { id: parsed.id, key: parsed.key, backboneBaseUrl: parsed.backboneBaseUrl ?? participant.baseUrl };
  }
  await quiesce();
  const before = process.memoryUsage().rss;
  const reset = resetPeak();
  let bytes: number;
  if (plaintext) {
    bytes = (await uploadFile(participant, { content: plaintext, filename: 'probe.bin', mimetype: 'application/octet-stream', expiresAt })).filesize;
  } else {
    bytes = (await downloadFile(participant, reference!)).content.length;
  }
  const peak = peakRss(reset);
  if (bytes !== size) throw new Error(`expected ${size} bytes, got ${bytes}`);
  process.stdout.write(JSON.stringify({ mode, size, growth: Math.max(0, peak - before) }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
