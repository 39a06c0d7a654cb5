import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size of a process in bytes, from /proc (Linux) or `ps` elsewhere. */
export function readRss(pid: number): { rss: number; peak: number | null } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number | null => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : null;
    };
    const rss = kb('VmRSS');
    if (rss !== null) return { rss, peak: kb('VmHWM') };
  } catch {
    // no /proc: fall through to ps
  }
  try {
    const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
    const kb = Number(out.trim());
    return Number.isFinite(kb) && kb > 0 ? { rss: kb * 1024, peak: null } : null;
  } catch {
    return null;
  }
}

/**
 * Samples a process's RSS every `intervalMs`. The peak is the larger of the highest sample and
 * the kernel's own high-water mark (VmHWM), read at each sample and once more at `stop()`.
 */
export class RssSampler {
  private timer: NodeJS.Timeout;
  private peakBytes = 0;
  private lastBytes = 0;
  private samples = 0;

  constructor(
    readonly pid: number,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const r = readRss(this.pid);
    if (r === null) return;
    this.samples += 1;
    this.lastBytes = r.rss;
    this.peakBytes = Math.max(this.peakBytes, r.rss, r.peak ?? 0);
  }

  /** Latest RSS in bytes. */
  get current(): number {
    return this.lastBytes;
  }

  get peak(): number {
    return this.peakBytes;
  }

  /** Takes a last sample (call it before the process exits) and stops sampling. */
  stop(): { peakBytes: number; lastBytes: number; samples: number } {
    this.sample();
    clearInterval(this.timer);
    return { peakBytes: this.peakBytes, lastBytes: this.lastBytes, samples: this.samples };
  }
}

export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * User + system CPU seconds a process has used so far (Linux /proc), or null; with `reaped`,
 * also those of its children that have exited and been waited for.
 */
export function readCpuSeconds(pid: number, reaped = false): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks =
      Number(fields[11]) +
      Number(fields[12]) +
      (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds of a process and all its descendants (a wrapper shell and the JVM under it), those
 * that exited included (Postgres backends whose connection closed): each live process counts
 * its own time and its reaped children's.
 */
export function readTreeCpuSeconds(pid: number): number | null {
  const own = readCpuSeconds(pid, true);
  if (own === null) return null;
  let total = own;
  for (const child of childPids(pid)) total += readTreeCpuSeconds(child) ?? 0;
  return total;
}

/** The child processes of `pid` (from /proc). */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** Machine-wide CPU jiffies from /proc/stat: busy (not idle or iowait) and total. */
export function readMachineCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
