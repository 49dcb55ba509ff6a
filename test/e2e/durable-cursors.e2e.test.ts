/**
 * The Enmeshed Trigger on n8n 2.41.1 with durable poll cursors (N8N_POLLER_DURABLE_CURSORS_ENABLED
 * and the scheduler it needs), across SIGKILLs of n8n main aimed at a poll: the first kill right
 * after the first database write that follows the poll's read of the message list, the second
 * after the third (where n8n commits the cursor and the execution row). n8n is started again after
 * each; one more poll follows the last. Every message sent must have been emitted exactly once
 * (counted in n8n's executions, which hold a poll's items even when the execution never ran).
 * scripts/scale/poll-crash.ts does the work; its CLI measures more kills and the default path.
 */
import { runPollCrash } from '../../scripts/scale/poll-crash';

jest.setTimeout(10 * 60_000);

test('durable poll cursors: every message emitted exactly once across SIGKILLs of main aimed at polls', async () => {
  const result = await runPollCrash({ durable: true, kills: 2, perRound: 4, writes: [1, 3], progress: (line) => void process.stderr.write(`[durable cursors] ${line}\n`) });
  process.stderr.write(`[durable cursors] ${JSON.stringify(result)}\n`);

  expect(result.kills).toHaveLength(2);
  // the kills hit polls (right after their writes), not idle moments
  expect(result.kills.every((k) => k.afterWrite !== undefined)).toBe(true);
  expect(result.pollsAfterLastRestart).toBeGreaterThan(0);
  expect(result.sent).toBe(8);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.emitted).toBe(result.sent);
});
