import type { Catalog } from '../../core/catalog.ts';
import type { EntryKind } from '../../core/entry.ts';
import type { WriteTx } from '../../store/store.ts';
import { WorkingAccount } from '../working-account.ts';

/**
 * The state one provider event works on inside its transaction: each account is loaded (and
 * locked) once, however many effects touch it (an event plus the pending ones it releases),
 * and all are written once at the end.
 */
export class PaymentSession {
  readonly tx: WriteTx;
  readonly catalog: Catalog;
  readonly provider: string;
  readonly now: number;
  /** How long after a declined automatic top-up the next try starts (`TOKENMETER_TOPUP_RETRY_S`). */
  readonly topupRetryMs: number;
  private readonly accounts = new Map<string, WorkingAccount>();

  constructor(tx: WriteTx, catalog: Catalog, provider: string, now: number, topupRetryMs: number) {
    this.tx = tx;
    this.topupRetryMs = topupRetryMs;
    this.catalog = catalog;
    this.provider = provider;
    this.now = now;
  }

  async account(id: string): Promise<WorkingAccount> {
    const cached = this.accounts.get(id);
    if (cached) return cached;
    const working = await WorkingAccount.load(this.tx, id, this.catalog, this.now);
    this.accounts.set(id, working);
    return working;
  }

  /**
   * Whether an entry with this reference exists: written before, or decided earlier in this
   * transaction (an event and the pending ones it releases are flushed together at the end).
   */
  async hasEntry(kind: EntryKind, reference: string): Promise<boolean> {
    for (const working of this.accounts.values()) {
      if (working.entries.some((e) => e.kind === kind && e.source === this.provider && e.reference === reference)) {
        return true;
      }
    }
    return (await this.tx.findEntryByReference(kind, this.provider, reference)) !== undefined;
  }

  /** True when the account is stored (or already loaded here); locks it when it exists. */
  async exists(id: string): Promise<boolean> {
    if (this.accounts.has(id)) return true;
    return (await this.tx.lockAccount(id)) !== undefined;
  }

  /**
   * Writes every touched account. Payment effects are exempt from the overdraft guard: a
   * refund or dispute may leave a balance negative, and a purchase or grant only adds.
   */
  async flush(): Promise<void> {
    for (const working of this.accounts.values()) {
      if (working.changed) await working.flush(this.tx, 'exempt');
    }
  }
}
