/** Counts events per key in fixed time windows; memory is bounded by dropping stale windows. */
export class FixedWindowCounter {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(windowMs: number, maxKeys = 100_000) {
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
  }

  private roll(now: number): void {
    if (now - this.windowStart >= this.windowMs || this.counts.size >= this.maxKeys) {
      this.windowStart = now;
      this.counts = new Map();
    }
  }

  /** Counts one event for `key`; returns the count in the current window, this one included. */
  hit(key: string, now = Date.now()): number {
    this.roll(now);
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count;
  }
}
