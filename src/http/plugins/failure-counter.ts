import { FixedWindowCounter } from './fixed-window-counter.ts';

/** Failed authentications per client address, in fixed one-minute windows. */
export interface FailureCounter {
  /** Records one failure for `key`; resolves to the failures in the current window, this one included. */
  hit(key: string): Promise<number>;
}

export const FAILURE_WINDOW_MS = 60_000;

/** The per-process counter: what each process uses without Redis, or while Redis is away. */
export class LocalFailureCounter implements FailureCounter {
  private readonly counter = new FixedWindowCounter(FAILURE_WINDOW_MS);

  async hit(key: string): Promise<number> {
    return this.counter.hit(key);
  }
}
