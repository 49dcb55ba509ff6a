/**
 * Work that waits on the network, run a few at a time: attachment downloads (each two round trips
 * to the Platform: metadata, blob) and uploads would otherwise take the sum of their latencies.
 */

/** How many files a node downloads or uploads at once: latency overlaps, memory stays a few files. */
export const TRANSFERS_AT_ONCE = 4;

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * A gate that lets `concurrency` tasks run at once; the rest wait their turn, in order. The promise
 * it returns never rejects: it settles to the task's value or error, so results awaited later
 * cannot go unhandled while earlier ones are awaited.
 */
export function limiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<Settled<T>> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<Settled<T>> => {
    // A finished task hands its slot to the next in line, so a caller arriving meanwhile cannot take it too.
    if (running < concurrency) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    const result = await settle(Promise.resolve().then(task));
    const next = waiting.shift();
    if (next) next();
    else running--;
    return result;
  };
}

/** A promise as one that never rejects (see Settled). */
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * `task` for every item through `gate`; the results in the items' order. All are waited for; if any
 * failed, the first failure in that order is thrown.
 */
export async function eachThrough<T, R>(gate: ReturnType<typeof limiter>, items: readonly T[], task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const settled = await Promise.all(items.map((item, index) => gate(() => task(item, index))));
  return settled.map((s) => {
    if (!s.ok) throw s.error;
    return s.value;
  });
}
