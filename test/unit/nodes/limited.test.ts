/**
 * nodes/shared/limited.ts: the gate the nodes move files through. Never more than its limit at
 * once, also for tasks that arrive while others finish; a failing task frees its slot and settles
 * instead of rejecting; eachThrough keeps the items' order and throws the first failure in it.
 */
import { eachThrough, limiter } from '../../../nodes/shared/limited';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('at most the limit at once, also for tasks that arrive while others finish', async () => {
  const gate = limiter(2);
  let running = 0;
  let most = 0;
  const task = async () => {
    running++;
    most = Math.max(most, running);
    await tick();
    running--;
  };
  const first = [gate(task), gate(task), gate(task)];
  // A task that arrives in the same turn as the first two finish, before the third is let in.
  const late = (async () => {
    await tick();
    return gate(task);
  })();
  await Promise.all([...first, late]);
  expect(most).toBe(2);
});

test('a failing task settles as an error and frees its slot; eachThrough keeps order and throws the first failure', async () => {
  const gate = limiter(1);
  const failed = await gate(() => Promise.reject(new Error('boom')));
  expect(failed).toEqual({ ok: false, error: new Error('boom') });
  expect(await gate(async () => 'after')).toEqual({ ok: true, value: 'after' });

  const order: number[] = [];
  const results = await eachThrough(limiter(3), [30, 10, 20], async (ms, i) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    order.push(i);
    return i * 10;
  });
  expect(results).toEqual([0, 10, 20]);
  expect(order).toEqual([1, 2, 0]); // they ran at once: finished by duration, returned by position
  await expect(
    eachThrough(limiter(2), [1, 2, 3], async (n) => {
      if (n > 1) throw new Error(`failed ${n}`);
      return n;
    }),
  ).rejects.toThrow('failed 2');
});
