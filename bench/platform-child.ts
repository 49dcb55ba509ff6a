/**
 * The local Platform in a child process, driven over IPC by platform-host.ts (BENCH_PLATFORM=child:
 * the Platform's work then does not run in the process being measured).
 */
import { startPlatform, type PlatformOptions } from '../platform/server';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as PlatformOptions;
  const handle = await startPlatform(options);
  process.on('message', (m: { id: number; op: string; arg?: number }) => {
    const reply = (): void => void process.send?.({ reply: m.id });
    if (m.op === 'advanceClock') {
      handle.advanceClock(m.arg ?? 0);
      reply();
    } else if (m.op === 'close') {
      void handle.close().then(() => {
        reply();
        setTimeout(() => process.exit(0), 50);
      });
    }
  });
  process.send?.({ ready: { baseUrl: handle.baseUrl, node: process.version } });
}

void main();
