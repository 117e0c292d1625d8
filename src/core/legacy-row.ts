import { requireAccountId } from './account-id.ts';
import { MAX_ADJUSTMENT } from './amounts.ts';
import { type Catalog, findPlan, type Plan } from './catalog.ts';
import { isTokenmeterError } from './errors.ts';
import { clip, legacyInt, legacyText } from './legacy-values.ts';

/** One row of a legacy users table as its source returned it: the four columns, untyped. */
export interface LegacyRow {
  id: unknown;
  balance: unknown;
  used: unknown;
  plan: unknown;
}

/** A legacy row made ready to import, with what had to be filled in. */
export interface LegacyAccount {
  account: string;
  plan: string;
  balance: number;
  usedThisCycle: number;
  /** The balance was NULL: it opens with the plan's allocation. */
  balanceWasNull: boolean;
  /** The used count was NULL: it opens at 0. */
  usedWasNull: boolean;
  /** Why the plan is the default one: it was NULL, or it named a plan tokenmeter does not have. */
  planDefaulted: 'null' | 'unknown' | null;
  /** The legacy plan name when it was unknown. */
  unknownPlan: string | null;
}

export type NormalizedRow = { ok: true; value: LegacyAccount } | { ok: false; account: string | null; reason: string };

/**
 * The seed's defaults, applied to a legacy row: a NULL balance becomes the plan's allocation,
 * a NULL used count 0, a NULL or unknown plan the config's default plan. Anything that cannot
 * be an account of tokenmeter (a bad id, a balance that is not an integer) is rejected with
 * the reason, never guessed at.
 */
export function normalizeLegacyRow(row: LegacyRow, catalog: Catalog): NormalizedRow {
  const idText = legacyText(row.id);
  if (idText === null) return { ok: false, account: null, reason: 'the id is NULL or empty' };
  if (idText === undefined) return { ok: false, account: null, reason: 'the id is not a text or an integer' };
  if (typeof row.id === 'number' && !Number.isInteger(row.id)) {
    return { ok: false, account: idText, reason: `id ${idText} is not a valid account id (not an integer)` };
  }
  try {
    requireAccountId(idText, 'id');
  } catch (err) {
    if (!isTokenmeterError(err)) throw err;
    return { ok: false, account: clip(idText), reason: `"${clip(idText)}" is not a valid account id (${err.message})` };
  }
  const account = idText;

  const planText = legacyText(row.plan);
  const known = planText === null || planText === undefined ? undefined : matchPlan(catalog, planText);
  const plan = known ?? findPlan(catalog, catalog.defaultPlan);
  const planDefaulted = known ? null : planText === null ? 'null' : 'unknown';
  const unknownPlan = planDefaulted === 'unknown' ? clip(planText ?? `(${typeof row.plan})`) : null;

  const balance = legacyInt(row.balance, -MAX_ADJUSTMENT, MAX_ADJUSTMENT);
  if (!balance.ok) return { ok: false, account, reason: `balance: ${balance.reason}` };
  const used = legacyInt(row.used, 0, MAX_ADJUSTMENT);
  if (!used.ok) return { ok: false, account, reason: `used this month: ${used.reason}` };

  return {
    ok: true,
    value: {
      account,
      plan: plan.id,
      balance: balance.value ?? plan.monthlyAllocation,
      usedThisCycle: used.value ?? 0,
      balanceWasNull: balance.value === null,
      usedWasNull: used.value === null,
      planDefaulted,
      unknownPlan,
    },
  };
}

/** A plan by its id, or by the same id in other case or padded with spaces ("Free ", "PRO"). */
function matchPlan(catalog: Catalog, name: string): Plan | undefined {
  const exact = catalog.plans.get(name);
  if (exact) return exact;
  const wanted = name.trim().toLowerCase();
  for (const plan of catalog.plans.values()) if (plan.id.toLowerCase() === wanted) return plan;
  return undefined;
}
