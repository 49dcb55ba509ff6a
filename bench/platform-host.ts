/**
 * The local Platform for the end-to-end benchmarks, on loopback.
 *
 * In-process by default, on any Node (its SQLite is node:sqlite on Node >= 22.5 and WebAssembly
 * before: platform/db.ts). BENCH_PLATFORM=child runs it in a child process instead, on the `node`
 * found on PATH (override: BENCH_PLATFORM_NODE), driven over IPC (`platform-child.ts`), so that the
 * Platform's CPU time is not spent in the process being measured; the clients being measured
 * always run in this process on the Node under test.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { startPlatform, type PlatformOptions } from '../platform/server';

export interface BenchPlatform {
  baseUrl: string;
  /** 'in-process' or 'child process (Node vX)'. */
  where: string;
  advanceClock(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchPlatform(options: PlatformOptions = {}): Promise<BenchPlatform> {
  if (process.env.BENCH_PLATFORM !== 'child') {
    const handle = await startPlatform(options);
    return {
      baseUrl: handle.baseUrl,
      where: 'in-process',
      advanceClock: async (ms) => handle.advanceClock(ms),
      close: () => handle.close(),
    };
  }
  const nodeBin = process.env.BENCH_PLATFORM_NODE ?? 'node';
  const child = fork(path.join(__dirname, 'platform-child.ts'), [JSON.stringify(options)], {
    execPath: nodeBin,
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    cwd: path.join(__dirname, '..'),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, (value: unknown) => void>();
  const ready = new Promise<{ baseUrl: string; node: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the Platform child exited (${code})`)));
    child.on('message', (m: { ready?: { baseUrl: string; node: string }; reply?: number }) => {
      if (m.ready) resolve(m.ready);
      if (m.reply !== undefined) {
        pending.get(m.reply)?.(undefined);
        pending.delete(m.reply);
      }
    });
  });
  const { baseUrl, node } = await ready;
  const call = (op: string, arg?: number): Promise<void> =>
    new Promise((resolve) => {
      const id = ++seq;
      pending.set(id, () => resolve());
      child.send({ id, op, arg });
    });
  return {
    baseUrl,
    where: `child process (Node ${node})`,
    advanceClock: (ms) => call('advanceClock', ms),
    async close() {
      child.removeAllListeners('exit');
      await call('close');
      child.kill();
    },
  };
}
