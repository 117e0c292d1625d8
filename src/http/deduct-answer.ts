import { ERROR_STATUS } from '../core/errors.ts';
import type { DeductResult } from '../ledger/types.ts';
import { deductJson, type JsonObject } from '../ledger/wire.ts';
import { deductionOutcome, type Metrics } from './metrics.ts';

/** What `POST /api/tokens/deduct` answers for one deduction: its status and body. */
export interface DeductAnswer {
  status: number;
  body: JsonObject;
}

/**
 * The one place a deduction's answer is built and counted, so that an item of the batch route
 * is exactly what the single route would have answered for it (a charge's figures, a refusal
 * with its code, a replay of the first answer), and both count in the same metrics.
 */
export function deductAnswer(metrics: Metrics, feature: string, r: DeductResult): DeductAnswer {
  metrics.deductions.inc({ feature, outcome: deductionOutcome(r) });
  if (r.ok && !r.replayed) metrics.tokensCharged.inc({ feature }, r.cost);
  return { status: r.ok ? 200 : ERROR_STATUS[r.code], body: deductJson(r) };
}
