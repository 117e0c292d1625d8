import type { AccountState } from './account-state.ts';
import { type Posted, post } from './posting.ts';

/**
 * What joining a pool does to the member's own tokens: its included grants (its plan's
 * allocation) end at once, since the pool's plan now grants its tokens; purchases, promotions and
 * adjustments stay its own. One `cycle_expiry` entry records it (nothing when it holds none).
 */
export function endIncludedOnJoin(state: AccountState, pool: string, now: number): Posted {
  const open = state.grants.filter((g) => g.category === 'included' && g.status === 'active');
  if (open.length === 0) return { state, entries: [] };
  return post(
    state,
    {
      kind: 'cycle_expiry',
      grantMoves: open.filter((g) => g.remaining > 0).map((g) => ({ grant: g.id, delta: -g.remaining })),
      statuses: open.map((g) => ({ grant: g.id, status: 'expired' as const })),
      source: 'pool',
      reference: `join:${state.id}:${pool}:${now}`,
      reason: `Joined pool ${pool}: its plan grants the tokens`,
      actor: 'system',
    },
    now,
  );
}
