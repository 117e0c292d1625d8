import { requireAccountId } from '../../core/account-id.ts';
import { MAX_ADJUSTMENT, requireInt } from '../../core/amounts.ts';
import { invalid, TokenmeterError } from '../../core/errors.ts';
import {
  CALLER_GRANT_CATEGORIES,
  type CallerGrantCategory,
  type Grant,
  MAX_PRIORITY,
  MIN_PRIORITY,
} from '../../core/grant.ts';
import { BY_ID_REFERENCE, type GrantSpec } from '../../core/grant-create.ts';
import { decideGrant } from '../../core/grant-decision.ts';
import type { LedgerContext } from '../context.ts';
import { requireText } from '../inputs.ts';
import type { GrantInput } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/** The source of grants made through `ledger.grant` (and the admin API, and the CLI). */
export const GRANT_SOURCE = 'grant';

/**
 * Grants tokens to an account: promotional (bonuses, compensation, trials) or paid, with an
 * optional expiry, start and priority. With a `reference` the grant is made at most once: the
 * same reference with the same parameters returns the grant made first; with others it is an
 * `idempotency_conflict`.
 */
export async function grant(ctx: LedgerContext, input: GrantInput): Promise<Grant> {
  const account = requireAccountId(input.account);
  const checked = checkGrant(input, ctx.clock.now());
  return ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
    if (checked.reference !== BY_ID_REFERENCE) {
      const prior = (await tx.findGrant(account, GRANT_SOURCE, checked.reference)) ?? null;
      if (prior) {
        if (!sameGrant(prior, checked)) {
          throw new TokenmeterError(
            'idempotency_conflict',
            `Reference ${checked.reference} was used for another grant on ${account}`,
            'reference',
          );
        }
        return prior;
      }
    }
    // Checked again at the write's own instant: an expiry that passed while the request waited
    // is the caller's error, not a constraint the database would report as a failure.
    if (checked.expiresAt !== null && checked.expiresAt <= Math.max(now, checked.effectiveAt ?? now)) {
      throw invalid('expiresAt', 'is already past');
    }
    working.apply(decideGrant(working.state, checked, now));
    const stored = new Set(working.state.grants.filter((g) => g.id > 0).map((g) => g.id));
    await working.flush(tx, 'no_overdraft');
    // The one grant of this source the flush gave an id (provisioning may have added others).
    const made = working.state.grants.find((g) => g.source === GRANT_SOURCE && !stored.has(g.id));
    if (!made) throw new Error('the new grant was not written');
    return made;
  });
}

function sameGrant(g: Grant, spec: GrantSpec): boolean {
  return (
    g.category === spec.category &&
    g.tokens === spec.tokens &&
    g.priority === spec.priority &&
    g.expiresAt === spec.expiresAt &&
    (spec.effectiveAt === undefined || g.effectiveAt === spec.effectiveAt)
  );
}

function checkGrant(input: GrantInput, now: number): GrantSpec & { priority: number; reason: string } {
  const tokens = requireInt('tokens', input.tokens, 1, MAX_ADJUSTMENT);
  if (!CALLER_GRANT_CATEGORIES.includes(input.category as CallerGrantCategory)) {
    throw invalid('category', `must be one of ${CALLER_GRANT_CATEGORIES.join(', ')}`);
  }
  const category = input.category as CallerGrantCategory;
  const priority =
    input.priority === undefined ? 50 : requireInt('priority', input.priority, MIN_PRIORITY, MAX_PRIORITY);
  const effectiveAt = input.effectiveAt === undefined ? undefined : requireTime('effectiveAt', input.effectiveAt);
  const expiresAt =
    input.expiresAt === undefined || input.expiresAt === null ? null : requireTime('expiresAt', input.expiresAt);
  if (expiresAt !== null && expiresAt <= now) throw invalid('expiresAt', 'is already past');
  if (expiresAt !== null && effectiveAt !== undefined && expiresAt <= effectiveAt) {
    throw invalid('expiresAt', 'must be after effectiveAt');
  }
  const reason = requireText('reason', input.reason, 500);
  const actor = requireText('actor', input.actor, 200);
  const reference = input.reference === undefined ? BY_ID_REFERENCE : requireText('reference', input.reference, 255);
  // `#<id>` names a grant made without a reference (see draft-grants.ts).
  if (reference.startsWith('#')) throw invalid('reference', 'must not start with "#"');
  return {
    category,
    tokens,
    priority,
    ...(effectiveAt === undefined ? {} : { effectiveAt }),
    expiresAt,
    source: GRANT_SOURCE,
    reference,
    reason,
    actor,
  };
}

/** A time given as a Date or epoch milliseconds. */
function requireTime(field: string, value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) throw invalid(field, 'must be a time');
  return ms;
}
