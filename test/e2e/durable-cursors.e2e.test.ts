/**
 * The Enmeshed Trigger on n8n 2.41.1 with durable poll cursors (N8N_POLLER_DURABLE_CURSORS_ENABLED
 * and the scheduler it needs), across SIGKILLs of n8n main aimed at a poll: 60 ms after the poll
 * read the message list (measured: before n8n commits the cursor with the execution row) and 150 ms
 * after it (measured: after that commit, while the execution runs — on n8n's default path the
 * window that loses events lies between those). n8n is started again after each; one more poll
 * follows. Every message sent must have been emitted exactly once (counted in n8n's executions,
 * which hold a poll's items even when the execution never ran or crashed).
 * scripts/scale/poll-crash.ts does the work; its CLI measures more kills and the default path.
 */
import { runPollCrash } from '../../scripts/scale/poll-crash';

jest.setTimeout(10 * 60_000);

test('durable poll cursors: every message emitted exactly once across SIGKILLs of main aimed at polls', async () => {
  const result = await runPollCrash({ durable: true, kills: 2, perRound: 4, writes: [1], delaysMs: [60, 150], progress: (line) => void process.stderr.write(`[durable cursors] ${line}\n`) });
  process.stderr.write(`[durable cursors] ${JSON.stringify(result)}\n`);

  expect(result.kills).toHaveLength(2);
  expect(result.pollsAfterLastRestart).toBeGreaterThan(0);
  expect(result.sent).toBe(8);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.emitted).toBe(result.sent);
});
