import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import type { EntryDraft } from './entry.ts';
import type { GrantMove } from './grant.ts';
import { grantMoveParts } from './grant-create.ts';
import { type Move, type Posted, post } from './posting.ts';

/** Where a new cycle's grant comes from, and when it ends (null: a subscription's next invoice). */
export interface CycleLink {
  source: string;
  reference: string;
  expiresAt: number | null;
}

/**
 * A new cycle's allocation: the unused allocation of every included grant still open rolls
 * over up to the plan's cap, the rest expires (a `cycle_expiry` entry), and a new included grant
 * holds the plan's allocation plus the rollover (a `cycle_grant` entry of `+monthly`). The old
 * included grants end, with nothing remaining. Posted even for a zero allocation: the entry's
 * reference is what marks the cycle as renewed.
 */
export function renewIncluded(
  state: AccountState,
  plan: Plan,
  link: CycleLink,
  at: number,
): Posted & {
  rollover: number;
} {
  const open = state.grants.filter((g) => g.category === 'included' && g.status === 'active');
  const unused = open.reduce((sum, g) => sum + g.remaining, 0);
  const rollover = Math.min(unused, plan.rolloverCap);
  const { expire, carry } = splitIncluded(open, unused - rollover);
  const entries: EntryDraft[] = [];
  let current = state;
  const ref = { source: link.source, reference: link.reference };
  if (unused - rollover > 0) {
    const expiry = post(current, { kind: 'cycle_expiry', grantMoves: expire, ...ref }, at);
    current = expiry.state;
    entries.push(...expiry.entries);
  }
  const tokens = plan.monthlyAllocation + rollover;
  const fresh: Pick<Move, 'newGrants' | 'grantMoves'> =
    tokens > 0
      ? grantMoveParts(
          current,
          { category: 'included', tokens, expiresAt: link.expiresAt, effectiveAt: at, ...ref },
          at,
          { paysDebt: false },
        )
      : {};
  const grant = post(
    current,
    {
      kind: 'cycle_grant',
      newGrants: fresh.newGrants ?? [],
      grantMoves: [...carry, ...(fresh.grantMoves ?? [])],
      statuses: open.map((g) => ({ grant: g.id, status: 'expired' as const })),
      ...ref,
    },
    at,
  );
  entries.push(...grant.entries);
  return { state: grant.state, entries, rollover };
}

/** Takes `expired` tokens from the open grants (in their order), the rest of each carries over. */
export function splitIncluded(
  open: readonly { id: number; remaining: number }[],
  expired: number,
): { expire: GrantMove[]; carry: GrantMove[] } {
  const expire: GrantMove[] = [];
  const carry: GrantMove[] = [];
  let left = expired;
  for (const g of open) {
    const gone = Math.min(g.remaining, left);
    left -= gone;
    if (gone > 0) expire.push({ grant: g.id, delta: -gone });
    if (g.remaining - gone > 0) carry.push({ grant: g.id, delta: -(g.remaining - gone) });
  }
  return { expire, carry };
}
