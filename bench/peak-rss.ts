import * as fs from 'node:fs';

/**
 * The environment of a memory probe process. glibc serves large allocations from memory the process
 * already holds once its mmap threshold has risen (it does after large frees, e.g. while the code
 * loads), so how much of a file-sized buffer shows up as growth depended on what happened before.
 * With a fixed threshold every allocation over 128 KiB gets fresh pages and gives them back when
 * freed: the growth is what the operation itself needs, the same in every run.
 */
export const probeEnv = { ...process.env, MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };

/**
 * Peak resident set over one operation. Linux lets a process reset its peak RSS (VmHWM) by writing
 * 5 to /proc/self/clear_refs; elsewhere the lifetime maxRSS is used, which can only overstate.
 */
export function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Collects garbage and waits until the resident set stops shrinking, so that the baseline is what
 * the process really holds. V8 gives freed pages back to the system on a background thread some
 * milliseconds after a collection; measured right after gc(), the baseline still counted them, and
 * their release during the operation hid its growth (a 7 MiB download "grew" by 0 while holding the
 * 7 MiB file).
 */
export async function quiesce(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let last = Infinity;
  for (let i = 0; i < 40; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rss = process.memoryUsage().rss;
    if (last - rss < 64 * 1024) return;
    last = rss;
  }
}

export function peakRss(reset: boolean): number {
  if (reset) {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return process.resourceUsage().maxRSS * 1024;
}
