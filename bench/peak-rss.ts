import * as fs from 'node:fs';

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

export function peakRss(reset: boolean): number {
  if (reset) {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return process.resourceUsage().maxRSS * 1024;
}
