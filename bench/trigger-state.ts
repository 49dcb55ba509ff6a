/**
 * Size of the trigger's static data after N messages (default 10,000) over a simulated week, one
 * poll per message (test/helpers/trigger-week.ts). Not part of `npm run bench` (it takes minutes):
 *   node -r ts-node/register/transpile-only bench/trigger-state.ts [messages] [days]
 */
import { simulateTriggerWeek } from '../test/helpers/trigger-week';

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 10_000);
  const days = Number(process.argv[3] ?? 7);
  console.log(`${messages} messages over ${days} simulated days, one poll each`);
  console.log('after messages | static data bytes | seen ids | digests');
  const result = await simulateTriggerWeek({
    messages,
    spanMs: days * 86_400_000,
    sampleEvery: Math.max(1, Math.round(messages / 20)),
    onSample: (s) => console.log(`${String(s.sent).padStart(14)} | ${String(s.bytes).padStart(17)} | ${String(s.seen).padStart(8)} | ${String(s.recent).padStart(7)}`),
  });
  console.log(`emitted ${result.emitted}, error items ${result.errors}, duplicates ${result.duplicates}, ${(result.ms / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({ messages, days, ...result, samples: undefined, maxBytes: Math.max(...result.samples.map((s) => s.bytes)), lastBytes: result.samples.at(-1)?.bytes }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
