import type { Logger } from '../log/logger.ts';
import type { WorkingAccount } from './working-account.ts';

/**
 * Remembers, inside a write transaction, whether it provisioned the account, so the info
 * line is logged only after the commit made it true.
 */
export class ProvisioningLog {
  private account: WorkingAccount | null = null;

  note(working: WorkingAccount): void {
    this.account = working.provisioned ? working : null;
  }

  /** Call after the commit. */
  flush(logger: Logger): void {
    if (!this.account) return;
    const { id, plan } = this.account.state;
    const opening = this.account.entries.find((e) => e.kind === 'opening_balance')?.amount ?? 0;
    logger.info({ account: id, plan }, `Provisioned account ${id} on plan ${plan} (opening balance ${opening})`);
  }
}
