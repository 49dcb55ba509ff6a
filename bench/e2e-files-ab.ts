/**
 * Before/after of our file transfers in one process, against plain HTTP: the files part of
 * e2e-files.ts without @nmshd/transport, with a second copy of lib/ (e.g. the code of an earlier
 * commit) measured alternately with this one, so that all three see the same machine load.
 *
 *   git archive <commit> lib | tar -x -C .tmp/base
 *   node --expose-gc -r ts-node/register/transpile-only bench/e2e-files-ab.ts --base=.tmp/base [--runs=9]
 *
 * Each round: plain HTTP upload + download, then base, then this code (the order of base and this
 * code alternates between rounds); each run uploads a fresh file that the peer downloads by reference.
 * Prints medians and ours / plain HTTP (plain ms / our ms, the figure of BENCHMARKS.md) for both.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { HttpClient, TokenManager } from '../lib/backbone';
import * as current from '../lib/protocol';
import { startBenchPlatform } from './platform-host';
import { rawDownload, rawUpload, type RawEndpoint } from './raw-http';
import { MiB, gc, inOneDay, median, now } from './setup';

type Protocol = typeof current;
type Side = { name: string; lib: Protocol; a: current.Participant; b: current.Participant };

async function participants(lib: Protocol, onboarding: { createIdentity: (o: object) => Promise<{ credential: current.ParticipantCredential }> }, baseUrl: string) {
  const open = async () => {
    const { credential } = await onboarding.createIdentity({ platformUrl: baseUrl, clientId: 'test', clientSecret: 'test' });
    return Object.assign(await lib.openParticipant(credential, { shared: false }), { credential });
  };
  return { a: await open(), b: await open() };
}

async function main(): Promise<void> {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const baseDir = path.resolve(arg('base') ?? '.tmp/base');
  const runs = Number(arg('runs') ?? 9);
  const platform = await startBenchPlatform({});
  /* eslint-disable @typescript-eslint/no-require-imports */
  const baseLib = require(path.join(baseDir, 'lib', 'protocol')) as Protocol;
  const baseOnboarding = require(path.join(baseDir, 'lib', 'protocol', 'onboarding')) as Parameters<typeof participants>[1];
  const onboarding = require('../lib/protocol/onboarding') as Parameters<typeof participants>[1];
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sides: Side[] = [
    { name: 'base', lib: baseLib, ...(await participants(baseLib, baseOnboarding, platform.baseUrl)) },
    { name: 'this', lib: current, ...(await participants(current, onboarding, platform.baseUrl)) },
  ];
  const me = sides[1].a;
  const login = { clientId: 'test', clientSecret: 'test', username: me.identity.username, password: me.identity.keys.devicePassword };
  const raw: RawEndpoint = { baseUrl: platform.baseUrl, authorization: await new TokenManager(new HttpClient({ baseUrl: platform.baseUrl }), login).authorization() };

  console.log(`${runs} rounds per size, Node ${process.version}, Platform ${platform.where}; base = ${baseDir}`);
  console.log('size   op        plain HTTP    base        this        base/plain  this/plain  (ours / plain HTTP = plain ms / our ms)');
  for (const size of [1 * MiB, 7 * MiB]) {
    const content = randomBytes(size);
    const times: Record<string, number[]> = {};
    const record = (key: string, ms: number) => (times[key] ??= []).push(ms);
    // warm-up: every path once at this size (the hashing thread starts at the first large transfer)
    await rawDownload(raw, await rawUpload(raw, content));
    for (const s of sides) {
      const f = await s.lib.uploadFile(s.a, { content, filename: 'warm.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay() });
      await s.lib.downloadFile(s.b, f.reference);
    }
    for (let i = 0; i < runs; i++) {
      gc();
      let t = now();
      const rawId = await rawUpload(raw, content);
      record('raw_upload', now() - t);
      gc();
      t = now();
      await rawDownload(raw, rawId);
      record('raw_download', now() - t);
      for (const s of i % 2 ? [...sides].reverse() : sides) {
        gc();
        t = now();
        const file = await s.lib.uploadFile(s.a, { content, filename: `ab-${i}.bin`, mimetype: 'application/octet-stream', expiresAt: inOneDay() });
        record(`${s.name}_upload`, now() - t);
        gc();
        t = now();
        const got = await s.lib.downloadFile(s.b, file.reference);
        record(`${s.name}_download`, now() - t);
        if (!got.content.equals(content)) throw new Error(`${s.name}: the downloaded file differs`);
      }
    }
    for (const op of ['upload', 'download']) {
      const [r, b, c] = ['raw', 'base', 'this'].map((k) => median(times[`${k}_${op}`]));
      const ms = (x: number) => `${x.toFixed(1).padStart(7)} ms`;
      console.log(`${String(size / MiB).padStart(2)} MiB ${op.padEnd(9)} ${ms(r)}  ${ms(b)}  ${ms(c)}  ${(r / b).toFixed(2).padStart(9)}x ${(r / c).toFixed(2).padStart(9)}x`);
    }
  }
  await platform.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
