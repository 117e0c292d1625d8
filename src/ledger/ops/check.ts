import { requireAccountId } from '../../core/account-id.ts';
import { requireQuantity } from '../../core/amounts.ts';
import { findFeature } from '../../core/catalog.ts';
import { costOf } from '../../core/deduct.ts';
import { refusalMessage } from '../../core/messages.ts';
import type { LedgerContext } from '../context.ts';
import type { CheckInput, CheckResult } from '../types.ts';
import { getBalance } from './get-balance.ts';

/** Would this use be allowed now? Writes nothing. */
export async function check(ctx: LedgerContext, input: CheckInput): Promise<CheckResult> {
  const account = requireAccountId(input.account);
  const feature = findFeature(ctx.catalog, input.feature);
  const quantity = requireQuantity(input.quantity);
  const view = await getBalance(ctx, account);
  const cost = costOf(feature, quantity);
  const message = refusalMessage(cost, view.available);
  return {
    account,
    feature: feature.id,
    quantity,
    allowed: message === null,
    cost,
    balance: view.balance,
    available: view.available,
    featuresDisabled: view.featuresDisabled,
    message,
  };
}
