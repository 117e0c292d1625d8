import { readFileSync } from 'node:fs';

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

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}
