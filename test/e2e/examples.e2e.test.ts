/**
 * `npm run demo` as a test, so CI runs it with `npm run test:e2e`: the example workflows on a real
 * n8n 2.41.1 — every example imported and checked against n8n's node descriptions (our parameter
 * check and n8n's own workflow validation), then examples 2 (n8n execute), 1 and 3 (active
 * triggers in n8n start) and 5 (a Request and its answer) end to end between Clinic, Lab and a
 * newcomer. See scripts/demo.ts.
 */
import { runDemo } from '../../scripts/demo';

jest.setTimeout(15 * 60_000);

test('npm run demo: every step happens', async () => {
  const lines: string[] = [];
  const result = await runDemo({ log: (line) => lines.push(line) });
  process.stdout.write(`${lines.join('\n')}\n`);
  expect(result.steps.filter((s) => !s.ok)).toEqual([]);
  expect(result.steps.map((s) => s.title.slice(0, 2))).toEqual(expect.arrayContaining(['1.', '2.', '3.', '4.', '5.']));
  expect(result.ok).toBe(true);
});
