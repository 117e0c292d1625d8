import type { AccountState } from '../core/account-state.ts';
import type { Grant, GrantStatus } from '../core/grant.ts';

/** One stored grant changed by a write: `remaining` by `delta`, its status from `from` to `to`. */
export interface GrantUpdate {
  id: number;
  account: string;
  delta: number;
  from: GrantStatus;
  to: GrantStatus;
  closedAt: number | null;
}

/** What an account's write does to its grants: the new rows, and the changed ones as guarded deltas. */
export interface GrantChanges {
  inserts: Grant[];
  updates: GrantUpdate[];
}

/**
 * The grant rows a move from `before` (as stored) to `after` writes. A grant absent from
 * `before` is new (its id was reserved); one whose remaining or status differs is an update.
 * Grants are never deleted: a decision that drops one from `after` is a bug.
 */
export function grantChanges(before: AccountState | null, after: AccountState): GrantChanges {
  const old = new Map<number, Grant>();
  for (const g of before?.grants ?? []) old.set(g.id, g);
  const inserts: Grant[] = [];
  const updates: GrantUpdate[] = [];
  for (const g of after.grants) {
    if (g.id <= 0) throw new Error(`grant ${g.id} reached the store without a stored id`);
    const was = old.get(g.id);
    old.delete(g.id);
    if (!was) inserts.push(g);
    else if (was.remaining !== g.remaining || was.status !== g.status) {
      updates.push({
        id: g.id,
        account: g.account,
        delta: g.remaining - was.remaining,
        from: was.status,
        to: g.status,
        closedAt: g.closedAt,
      });
    }
  }
  if (old.size > 0) throw new Error(`a write dropped grants ${[...old.keys()].join(', ')} of ${after.id}`);
  return { inserts, updates };
}
