/**
 * Cold start: the first node-style call in a fresh process against the same call warm
 * (`cold-probe.ts`), through the local Platform. The Platform and the peer run here; the probe is a
 * fresh process holding only the credential, like a new n8n worker. Several probes; the median
 * counts.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { BenchPlatform } from './platform-host';
import { median, ourPair } from './setup';

export interface ColdStartResult {
  probes: number;
  /** Node start + ts-node register until the probe's module runs (not part of the call). */
  bootMs: number;
  /** require() of lib/protocol under ts-node transpile-only (the shipped JavaScript loads faster). */
  loadMs: number;
  firstMs: number;
  firstSodiumMs: number;
  firstOpenMs: number;
  firstSendMs: number;
  firstRequests: number;
  firstRequestLog: string[];
  warmMs: number;
  warmRequests: number;
}

interface ProbeOutput {
  bootMs: number;
  loadMs: number;
  first: { ms: number; sodiumMs: number; openMs: number; sendMs: number; requests: number; requestLog: string[] };
  warmMs: number;
  warmRequests: number;
}

const run = promisify(execFile);

export async function benchColdStart(platform: BenchPlatform, quick: boolean): Promise<ColdStartResult> {
  const { a, b } = await ourPair(platform.baseUrl);
  const probes: ProbeOutput[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const { stdout } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'cold-probe.ts'), JSON.stringify(a.credential), b.address, '10'],
      { encoding: 'utf8', cwd: path.join(__dirname, '..'), maxBuffer: 1 << 20 },
    );
    probes.push(JSON.parse(stdout.trim().split('\n').pop()!) as ProbeOutput);
  }
  const m = (f: (p: ProbeOutput) => number): number => median(probes.map(f));
  const typical = [...probes].sort((x, y) => x.first.ms - y.first.ms)[Math.floor(probes.length / 2)];
  return {
    probes: probes.length,
    bootMs: m((p) => p.bootMs),
    loadMs: m((p) => p.loadMs),
    firstMs: m((p) => p.first.ms),
    firstSodiumMs: m((p) => p.first.sodiumMs),
    firstOpenMs: m((p) => p.first.openMs),
    firstSendMs: m((p) => p.first.sendMs),
    firstRequests: m((p) => p.first.requests),
    firstRequestLog: typical.first.requestLog,
    warmMs: m((p) => p.warmMs),
    warmRequests: m((p) => p.warmRequests),
  };
}
