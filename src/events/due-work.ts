import type { Clock } from '../core/clock.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import type { Logger } from '../log/logger.ts';
import type { OutboxStore } from '../store/outbox-store.ts';
import { WokenLoop } from './woken-loop.ts';

export interface DueWorkOptions {
  ledger: TokenLedger;
  outbox: OutboxStore;
  clock: Clock;
  logger: Logger;
  /** How long before a grant expires `grant.expiring` is sent (default 7 days). */
  noticeMs: number;
  /** The longest it sleeps: work another process created is found within this (default 5 s). */
  pollMs?: number;
}

/** On start, expiries this far back that no write recorded are still looked for. */
const FIRST_LOOKBACK_MS = 7 * 86_400_000;
/** Later rounds start this far before the previous one: what one round could not record, the next ones retry. */
const LOOKBACK_MS = 86_400_000;
const PAGE = 200;

/**
 * Time-driven work in the server process: a grant (a plan's allocation included) expiring, a
 * grant taking effect, a hold running out, a grant about to expire. Each is recorded by an
 * ordinary write of its account at its time (within `pollMs`), so its entries and events are
 * written as any write's are, and never twice (the entries' references and the reminder's dedupe
 * key are unique), however many processes do this work. It sleeps until the next time it knows
 * of, at most `pollMs`.
 */
export class DueWorkScheduler {
  private readonly o: Required<DueWorkOptions>;
  private readonly loop: WokenLoop;
  private stopped = false;
  private lastRound: number | null = null;

  constructor(options: DueWorkOptions) {
    this.o = { pollMs: 5_000, ...options };
    this.loop = new WokenLoop({ round: () => this.round(), clock: this.o.clock, pollMs: this.o.pollMs });
  }

  start(): void {
    this.loop.wake();
  }

  /** Runs a round now (or right after the one running). */
  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }

  /** One round: records what is due, announces what expires soon; resolves with when the next thing falls due. */
  async round(): Promise<number | null> {
    const now = this.o.clock.now();
    // From a little before the last round (however long ago: the process may have slept), or on
    // the first round a week back.
    const from = this.lastRound === null ? now - FIRST_LOOKBACK_MS : this.lastRound - LOOKBACK_MS;
    let next: number | null = null;
    try {
      await this.each(
        () => this.o.outbox.dueAccounts(from, now, PAGE),
        (a) => this.o.ledger.catchUp(a),
      );
      await this.each(
        () => this.o.outbox.expiringGrantAccounts(now, now + this.o.noticeMs, PAGE),
        async (a) => (await this.o.ledger.remindExpiring(a, this.o.noticeMs)) > 0,
      );
      this.lastRound = now;
      next = await this.o.outbox.nextExpiryAfter(now);
    } catch (err) {
      this.o.logger.error({ err }, 'due work: could not read what is due; trying again shortly');
    }
    return next;
  }

  /** Works pages of accounts until a page brings nothing new (an account that cannot progress is skipped). */
  private async each(page: () => Promise<string[]>, work: (account: string) => Promise<boolean>): Promise<void> {
    const skipped = new Set<string>();
    for (;;) {
      const accounts = (await page()).filter((a) => !skipped.has(a));
      if (accounts.length === 0) return;
      for (const account of accounts) {
        if (this.stopped) return;
        try {
          if (!(await work(account))) skipped.add(account);
        } catch (err) {
          skipped.add(account);
          this.o.logger.warn({ err, account }, 'due work: an account could not be brought up to date');
        }
      }
    }
  }
}
