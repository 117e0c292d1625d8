import type { Logger } from '../log/logger.ts';
import type { WorkingAccount } from './working-account.ts';

/** An account a write provisioned, as the info line after its commit tells it. */
export interface Provisioned {
  account: string;
  plan: string;
  opening: number;
}

/** What a hot-path write hands back: its answer, and the account it provisioned, if it did. */
export interface WithProvisioning<R> {
  result: R;
  provisioned: Provisioned | null;
}

/**
 * Remembers, inside a write transaction, whether it provisioned the account, so the info
 * line is logged only after the commit made it true.
 */
export class ProvisioningLog {
  private account: WorkingAccount | null = null;

  note(working: WorkingAccount): void {
    this.account = working.provisioned ? working : null;
  }

  /** What `flush` would log, as data (a write run on another thread hands it back this way). */
  record(): Provisioned | null {
    if (!this.account) return null;
    const { id, plan } = this.account.state;
    const opening = this.account.entries.find((e) => e.kind === 'opening_balance')?.amount ?? 0;
    return { account: id, plan, opening };
  }

  /** Call after the commit. */
  flush(logger: Logger): void {
    logProvisioned(logger, this.record());
  }
}

/** The info line for an account a committed write provisioned (nothing when it provisioned none). */
export function logProvisioned(logger: Logger, p: Provisioned | null): void {
  if (!p) return;
  logger.info(
    { account: p.account, plan: p.plan },
    `Provisioned account ${p.account} on plan ${p.plan} (opening balance ${p.opening})`,
  );
}
