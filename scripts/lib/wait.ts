/**
 * Polls `probe` until it gives a value (anything but undefined), every `everyMs` (default 1 s);
 * throws after `timeoutMs`, first calling `onTimeout` (e.g. to show a process's log). For the
 * scripts, the end-to-end tests and the benchmarks, which wait on processes and servers.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { everyMs?: number; onTimeout?: () => void } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      options.onTimeout?.();
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 1_000));
  }
}

/** waitFor for a condition in this process (a counter, a flag): checked every 10 ms by default, 5 s at most. */
export async function until(what: string, condition: () => boolean, timeoutMs = 5_000, options: { everyMs?: number; onTimeout?: () => void } = {}): Promise<void> {
  await waitFor(what, timeoutMs, () => condition() || undefined, { everyMs: 10, ...options });
}
