/**
 * npm run bench: side-by-side measurements in one run. Prints a table per benchmark and, as the
 * last line, one JSON object with every figure, so runs can be compared. `--quick` uses fewer runs.
 */
import * as os from 'node:os';
import { benchFileCrypto } from './crypto-files';

const MiB = 1024 * 1024;
const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const summary: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
  };

  const { rows, rss } = await benchFileCrypto(quick);
  console.log('\nFile crypto (XChaCha20-Poly1305; ours and @nmshd include (de)serialization of the upload blob)');
  console.log('size   op       raw libsodium        ours                 @nmshd/crypto         ours/raw  ours/@nmshd');
  const mibs = (size: number, ms: number): string => `${(size / MiB / (ms / 1000)).toFixed(0).padStart(5)} MiB/s`;
  for (const r of rows) {
    const cell = (ms: number): string => `${ms.toFixed(1).padStart(7)} ms ${mibs(r.size, ms)}`;
    const vsRaw = r.rawMs / r.oursMs;
    const vsNmshd = r.nmshdMs / r.oursMs;
    console.log(
      `${String(r.size / MiB).padStart(2)} MiB ${r.op.padEnd(8)} ${cell(r.rawMs)} ${cell(r.oursMs)} ${cell(r.nmshdMs)}  ${vsRaw.toFixed(2).padStart(6)}x ${vsNmshd.toFixed(1).padStart(9)}x`,
    );
    const keyBase = `file_${r.size / MiB}MiB_${r.op}`;
    summary[`${keyBase}_ms_raw_libsodium`] = round(r.rawMs);
    summary[`${keyBase}_ms_ours`] = round(r.oursMs);
    summary[`${keyBase}_ms_nmshd_crypto`] = round(r.nmshdMs);
    summary[`${keyBase}_throughput_ours_over_raw_libsodium`] = round(vsRaw);
    summary[`${keyBase}_throughput_ours_over_nmshd_crypto`] = round(vsNmshd, 1);
  }
  console.log('\nOur peak RSS growth (fresh process per case), as a multiple of the file size');
  for (const [k, v] of Object.entries(rss)) {
    console.log(`  ${k.padEnd(14)} ${v.toFixed(2)}x`);
    summary[`file_${k}_peak_rss_growth_over_file_size`] = round(v);
  }
  const minVsRaw = Math.min(...rows.map((r) => r.rawMs / r.oursMs));
  const maxRss = Math.max(...Object.values(rss));
  summary.file_min_throughput_ours_over_raw_libsodium = round(minVsRaw);
  summary.file_max_peak_rss_growth_over_file_size = round(maxRss);
  summary.targets_met = minVsRaw >= 0.8 && maxRss <= 3;
  console.log(`\nTargets: ours >= 0.8x raw libsodium: ${minVsRaw.toFixed(2)}x; peak RSS <= 3x file: ${maxRss.toFixed(2)}x`);
  console.log(JSON.stringify(summary));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
