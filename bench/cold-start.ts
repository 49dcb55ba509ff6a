/**
 * Cold start of the built package as n8n runs it: the build's compile step, then fresh processes on plain
 * Node (`cold-probe.ts`, transpiled to .tmp/ so that no ts-node is involved) that require the
 * Enmeshed node from dist/ and execute "Message → Send" once cold and then warm, through the local
 * Platform. The Platform and the peer run here; the probe holds only the credential, like a new n8n
 * worker. Several probes; the median counts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';
import type { BenchPlatform } from './platform-host';
import { median, ourPair } from './setup';

export interface ColdStartResult {
  probes: number;
  /** Node start until the probe's module runs (not part of the call). */
  bootMs: number;
  /** require of n8n-workflow, which n8n has loaded before any community node (not ours). */
  n8nWorkflowMs: number;
  /** require of dist/nodes/Enmeshed/Enmeshed.node.js and `new Enmeshed()`: what n8n pays at startup. */
  requireMs: number;
  /** Whether the require loaded libsodium / axios (both are meant to load on first use). */
  /** The first execution of Message → Send. */
  firstMs: number;
  /** Of it: libsodium's load and initialisation (the first cryptoReady()). */
  firstRequests: number;
  firstRequestLog: string[];
  warmMs: number;
  warmRequests: number;
}

interface ProbeOutput {
  bootMs: number;
  n8nWorkflowMs: number;
  requireMs: number;
  first: { ms: number; cryptoReadyMs?: number; requests: number; requestLog: string[] };
  warmMs: number;
  warmRequests: number;
}

const run = promisify(execFile);
const root = path.join(__dirname, '..');

/** Builds the package (dist/, the bundle n8n loads) and the probe (.tmp/bench/cold-probe.js); returns the probe's path. */
async function build(): Promise<string> {
  await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 16 << 20 });
  const source = readFileSync(path.join(__dirname, 'cold-probe.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  const out = path.join(root, '.tmp', 'bench', 'cold-probe.js');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, outputText);
  return out;
}

export async function benchColdStart(platform: BenchPlatform, quick: boolean): Promise<ColdStartResult> {
  const probe = await build();
  const { a, b } = await ourPair(platform.baseUrl);
  const probes: ProbeOutput[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const { stdout } = await run(process.execPath, [probe, JSON.stringify(a.credential), b.address, '10'], { encoding: 'utf8', cwd: root, maxBuffer: 1 << 20 });
    probes.push(JSON.parse(stdout.trim().split('\n').pop()!) as ProbeOutput);
  }
  const m = (f: (p: ProbeOutput) => number): number => median(probes.map(f));
  const typical = [...probes].sort((x, y) => x.first.ms - y.first.ms)[Math.floor(probes.length / 2)];
  return {
    probes: probes.length,
    bootMs: m((p) => p.bootMs),
    n8nWorkflowMs: m((p) => p.n8nWorkflowMs),
    requireMs: m((p) => p.requireMs),
    firstMs: m((p) => p.first.ms),
    firstRequests: m((p) => p.first.requests),
    firstRequestLog: typical.first.requestLog,
    warmMs: m((p) => p.warmMs),
    warmRequests: m((p) => p.warmRequests),
  };
}
