/**
 * Files end to end through the local Platform on loopback: encrypt + upload, and download + decrypt
 * (with every hash check), of 1 MiB and 7 MiB, ours (`uploadFile` / `downloadFile` of lib/protocol)
 * next to @nmshd/transport 7.0.0 (`files.sendFile` / `getOrLoadFile` + `downloadFileContent`).
 * Every run uploads a fresh file, and the peer (another identity) downloads it by its reference, so
 * every download is a first download on both sides (metadata read and decrypted, blob fetched).
 * Plus our peak RSS growth per operation, as a multiple of the file size, each measured in a fresh
 * process (`e2e-rss-probe.ts`) against the same Platform (median of 3 processes). And the floor: a
 * plain HTTP upload and download of a blob of the file's size through the same routes
 * (`raw-http.ts`), run alternately with ours so that both see the same machine load.
 */
import { CoreDate } from '@nmshd/core-types';
import { CoreBuffer } from '@nmshd/crypto';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HttpClient, TokenManager } from '../lib/backbone';
import { downloadFile, uploadFile } from '../lib/protocol';
import { newParticipant } from '../test/helpers/participants';
import { createTransportAccount } from '../test/interop/transport/harness';
import type { BenchPlatform } from './platform-host';
import { rawDownload, rawUpload, type RawEndpoint } from './raw-http';
import { probeEnv } from './peak-rss';
import { MiB, gc, inOneDay, median, now } from './setup';

export interface FileE2eRow {
  size: number;
  op: 'upload' | 'download';
  oursMs: number;
  transportMs: number;
  /** Plain HTTP, no crypto: the transfer alone. */
  rawMs: number;
}

export interface FileE2eResult {
  rows: FileE2eRow[];
  /** `${size}MiB_${op}` → peak RSS growth / file size. */
  rss: Record<string, number>;
  runs: { ours: Record<string, number>; transport: Record<string, number> };
}

const run = promisify(execFile);

async function probe(args: string[]): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'e2e-rss-probe.ts'), ...args],
    { encoding: 'utf8', cwd: path.join(__dirname, '..'), maxBuffer: 1 << 20, env: probeEnv },
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { growth: number }).growth;
}

export async function benchFilesE2e(platform: BenchPlatform, quick: boolean): Promise<FileE2eResult> {
  const ours = await newParticipant(platform.baseUrl);
  const oursPeer = await newParticipant(platform.baseUrl);
  // Transport without its datawallet (no sync of local changes): less work for transport.
  const connection = { baseUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test', datawalletEnabled: false };
  const theirs = await createTransportAccount({ ...connection, name: 'files-A' });
  const theirPeer = await createTransportAccount({ ...connection, name: 'files-B' });

  // The raw transfers log in as `ours` (same device, same quotas), through the public token manager.
  const login = { clientId: 'test', clientSecret: 'test', username: ours.identity.username, password: ours.identity.keys.devicePassword };
  const raw: RawEndpoint = { baseUrl: platform.baseUrl, authorization: await new TokenManager(new HttpClient({ baseUrl: platform.baseUrl }), login).authorization() };

  const rows: FileE2eRow[] = [];
  const rss: Record<string, number> = {};
  const runs = { ours: {} as Record<string, number>, transport: {} as Record<string, number> };
  for (const size of [1 * MiB, 7 * MiB]) {
    const content = randomBytes(size);
    const oursRuns = quick ? 2 : 5;
    const transportRuns = quick || size > MiB ? 1 : 3;

    // warm-up of both code paths with a small file
    const warm = await uploadFile(ours, { content: randomBytes(1024), filename: 'warm.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay() });
    await downloadFile(oursPeer, warm.reference);

    const oursUp: number[] = [];
    const oursDown: number[] = [];
    const rawUp: number[] = [];
    const rawDown: number[] = [];
    await rawDownload(raw, await rawUpload(raw, randomBytes(1024))); // warm-up
    for (let i = 0; i < oursRuns; i++) {
      gc();
      let r = now();
      const rawId = await rawUpload(raw, content);
      rawUp.push(now() - r);
      gc();
      r = now();
      if ((await rawDownload(raw, rawId)) !== size) throw new Error('raw: the downloaded blob differs in size');
      rawDown.push(now() - r);

      gc();
      let t = now();
      const file = await uploadFile(ours, { content, filename: `bench-${i}.bin`, mimetype: 'application/octet-stream', expiresAt: inOneDay() });
      oursUp.push(now() - t);
      gc();
      t = now();
      const got = await downloadFile(oursPeer, file.reference);
      oursDown.push(now() - t);
      if (!got.content.equals(content)) throw new Error('ours: the downloaded file differs');
    }

    const theirUp: number[] = [];
    const theirDown: number[] = [];
    const warmFile = await theirs.controller.files.sendFile({
      buffer: CoreBuffer.from(randomBytes(1024)),
      filename: 'warm.bin',
      mimetype: 'application/octet-stream',
      expiresAt: CoreDate.utc().add({ days: 1 }),
      filemodified: CoreDate.utc(),
    } as never);
    await theirPeer.controller.files.getOrLoadFile(warmFile.id, warmFile.secretKey);
    await theirPeer.controller.files.downloadFileContent(warmFile.id);
    for (let i = 0; i < transportRuns; i++) {
      gc();
      let t = now();
      const file = await theirs.controller.files.sendFile({
        buffer: CoreBuffer.from(content),
        filename: `bench-${i}.bin`,
        mimetype: 'application/octet-stream',
        expiresAt: CoreDate.utc().add({ days: 1 }),
        filemodified: CoreDate.utc(),
      } as never);
      theirUp.push(now() - t);
      gc();
      t = now();
      const loaded = await theirPeer.controller.files.getOrLoadFile(file.id, file.secretKey);
      const got = await theirPeer.controller.files.downloadFileContent(loaded);
      theirDown.push(now() - t);
      if (!Buffer.from(got.buffer).equals(content)) throw new Error('transport: the downloaded file differs');
    }
    rows.push({ size, op: 'upload', oursMs: median(oursUp), transportMs: median(theirUp), rawMs: median(rawUp) });
    rows.push({ size, op: 'download', oursMs: median(oursDown), transportMs: median(theirDown), rawMs: median(rawDown) });
    runs.ours[`${size / MiB}MiB`] = oursRuns;
    runs.transport[`${size / MiB}MiB`] = transportRuns;

    // Peak RSS in fresh processes: the Platform stays here, the probe is only the client.
    const probeFile = await uploadFile(ours, { content, filename: 'probe.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay() });
    const credential = JSON.stringify(ours.credential);
    // The figure moves with the moment V8 collects the socket's chunks: the median of 3 processes.
    const probes = quick ? 1 : 3;
    const up: number[] = [];
    const down: number[] = [];
    for (let i = 0; i < probes; i++) {
      up.push((await probe(['upload', String(size), credential])) / size);
      down.push((await probe(['download', String(size), credential, probeFile.truncatedReference])) / size);
    }
    rss[`${size / MiB}MiB_upload`] = median(up);
    rss[`${size / MiB}MiB_download`] = median(down);
  }
  await theirs.close();
  await theirPeer.close();
  return { rows, rss, runs };
}
