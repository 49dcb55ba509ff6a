/**
 * The trigger's static data holds what its look-back window needs, not a record of everything it
 * ever saw: a peer sends one message per simulated minute (the Platform's clock moves), the trigger
 * polls after each (as its node does: seed, then poll, the cursor through JSON), and the size of its
 * static data levels off once the window is full. The
 * 10,000-messages-over-a-week figure: `node -r ts-node/register/transpile-only bench/trigger-state.ts`.
 */
import { FEED_LOOK_BACK_MS, REPLAY_TOLERANCE_MS } from '../../lib/protocol';
import { simulateTriggerWeek } from '../helpers/trigger-week';

jest.setTimeout(240_000);

test('400 messages over 400 simulated minutes: each emitted once; static data levels off (bounded by the window, not the total)', async () => {
  const minute = 60_000;
  const result = await simulateTriggerWeek({ messages: 400, spanMs: 400 * minute, sampleEvery: 50 });
  expect({ emitted: result.emitted, errors: result.errors, duplicates: result.duplicates }).toEqual({ emitted: 400, errors: 0, duplicates: 0 });
  // At one message a minute: ids of the last 5 minutes, digests of the last 5 + 60 minutes (+1 at each edge).
  for (const s of result.samples) {
    expect(s.seen).toBeLessThanOrEqual(FEED_LOOK_BACK_MS / minute + 1);
    expect(s.recent).toBeLessThanOrEqual((FEED_LOOK_BACK_MS + REPLAY_TOLERANCE_MS) / minute + 2);
  }
  const at = (sent: number) => result.samples.find((s) => s.sent === sent)!;
  expect(at(100).recent).toBeGreaterThan(50); // the window really fills …
  expect(at(400).bytes).toBeLessThanOrEqual(at(150).bytes * 1.05); // … and then stops growing
});
