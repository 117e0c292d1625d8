import type { Clock } from '../core/clock.ts';

export interface WokenLoopOptions {
  /**
   * One round of work; resolves with when work is next due (epoch ms, engine clock), or null when
   * nothing is known. It logs its own failures: a round that throws is followed by one after `pollMs`.
   */
  round: () => Promise<number | null>;
  clock: Clock;
  /** The longest sleep: how soon work another process committed is found without a wake-up. */
  pollMs: number;
}

/**
 * The pace of background work that nothing but work sets: `wake()` runs a round at once (or once
 * more right after the round in flight, so a wake-up is never lost); otherwise the loop sleeps
 * until the time the last round said work is next due, at most `pollMs`. Rounds never overlap.
 * Shared by the webhook dispatcher, the time-driven work and the top-up worker.
 */
export class WokenLoop {
  private readonly o: WokenLoopOptions;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(options: WokenLoopOptions) {
    this.o = options;
  }

  /** Runs a round now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = this.run().finally(() => {
      this.inFlight = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Asks for another round right after the one running (a round that left work behind). */
  more(): void {
    this.again = true;
  }

  /** Stops scheduling rounds; resolves once the round in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  private async run(): Promise<void> {
    const next = await this.o.round().catch(() => null);
    if (this.stopped || this.again) return;
    const wait = next === null ? this.o.pollMs : Math.min(this.o.pollMs, Math.max(0, next - this.o.clock.now()));
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }
}
