import { readdirSync, readFileSync } from 'node:fs';

/** Latencies in milliseconds, kept whole (a run has at most a few million). */
export class Latencies {
  private values = new Float64Array(1 << 16);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.n).sort();
    const at = (q: number) => (this.n === 0 ? 0 : (sorted[Math.min(this.n - 1, Math.ceil(q * this.n) - 1)] ?? 0));
    return { p50: round(at(0.5)), p99: round(at(0.99)), p999: round(at(0.999)), max: round(at(1)) };
  }
}

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** A process's peak resident memory (VmHWM) in MB, from /proc; null where there is no /proc. */
export function peakRssMb(pid: number | 'self' = 'self'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 102.4) / 10;
  } catch {
    return null;
  }
}

/**
 * Bytes a process has caused to be sent to storage so far (Linux's /proc/<pid>/io `write_bytes`:
 * what reaches the disk or its cache, SQLite's WAL frames and checkpoints among it); null where
 * there is no /proc or it cannot be read.
 */
export function bytesWritten(pid: number | 'self' = 'self'): number | null {
  try {
    const bytes = /^write_bytes:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1];
    return bytes === undefined ? null : Number(bytes);
  } catch {
    return null;
  }
}

/** `(after - before) / count` rounded, or null where either reading or the count is missing. */
export function perEach(before: number | null, after: number | null, count: number): number | null {
  return before === null || after === null || count <= 0 ? null : Math.round((after - before) / count);
}

/**
 * CPU seconds a process's threads have used, user and system, summed by thread name (Node names
 * them: MainThread, WorkerThread for each worker, V8Worker for the GC's helpers, libuv-worker),
 * with the whole process under `total`. From Linux's /proc, whose clock ticks are 1/100 s; null
 * where there is no /proc or no such process.
 */
export function cpuSeconds(pid: number | 'self' = 'self'): Map<string, number> | null {
  try {
    const byName = new Map<string, number>([['total', ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'))]]);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim();
        byName.set(name, (byName.get(name) ?? 0) + ticks(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')));
      } catch {
        // The thread ended between the listing and the read: its time is in the process's total.
      }
    }
    return byName;
  } catch {
    return null;
  }
}

/** utime + stime of a /proc stat line, in seconds (fields 14 and 15, counted after the command name). */
function ticks(stat: string): number {
  // The command name, in parentheses, may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
