import { type AccountState, availableOf } from './account-state.ts';
import type { EntryDraft } from './entry.ts';
import type { EventData, EventDraft, EventType } from './event.ts';

type Crossing = 'balance.low' | 'balance.depleted' | 'balance.recovered';

/**
 * The balance event of one step from `before` to `after` (available figures), if any:
 * `balance.depleted` when it goes from above zero to zero or below, `balance.recovered` back, and
 * `balance.low` when it goes from at or above the threshold to below it while staying above zero.
 * No state is kept: each crossing fires once, and the alert re-arms by available going back up.
 */
export function crossing(before: number, after: number, threshold: number): Crossing | null {
  if (before > 0 && after <= 0) return 'balance.depleted';
  if (before <= 0 && after > 0) return 'balance.recovered';
  if (before >= threshold && after < threshold && after > 0) return 'balance.low';
  return null;
}

/** One write to one account, as the engine saw it. */
export interface WriteSteps {
  /** As stored before the write; null when the write provisions the account. */
  stored: AccountState | null;
  /** The stored state brought up to the clock (renewals, grants starting and expiring, holds freed). */
  caughtUp: AccountState;
  /** What the write stores. */
  final: AccountState;
  /** Every entry the write records, what fell due first. */
  entries: readonly EntryDraft[];
  /** How many of `entries` are what fell due (they come first). */
  dueEntries: number;
  /** Below this available the account is low (its own, else its plan's). */
  threshold: number;
  now: number;
}

/**
 * The events a write causes, in the order they happened: what fell due by the clock (at the
 * moment it fell due), then the operation's (at `now`). Balance crossings are judged across each
 * of the two steps, stored → caught up → final, so a renewal that refills an empty account and a
 * deduction that empties it again both show.
 */
export function eventsOfWrite(
  w: WriteSteps,
  newId: () => string,
  /** What the operation itself announces (a purchase, a refund), at `now`, before its crossings. */
  announced: readonly EventDraft[] = [],
): EventDraft[] {
  // Most writes cause nothing: found without allocating (this runs for every operation).
  if (announced.length === 0 && quiet(w)) return [];
  const account = w.final.id;
  const events: EventDraft[] = [];
  const add = <T extends EventType>(type: T, at: number, data: EventData[T]) => {
    events.push({ id: newId(), type, account, at, recordedAt: w.now, data, dedupeKey: null } as EventDraft);
  };
  const due = w.entries.slice(0, w.dueEntries);
  const dueAt = due.reduce((latest, e) => Math.max(latest, e.at), 0) || w.now;
  // What fell due, then what it did to the balance, then the operation.
  entryEvents(add, w.entries, account);
  if (w.stored) balanceEvents(add, availableOf(w.stored), availableOf(w.caughtUp), w.threshold, account, dueAt);
  if (w.stored && w.stored.plan !== w.final.plan)
    add('plan.changed', w.now, { account, from: w.stored.plan, to: w.final.plan });
  events.push(...announced);
  balanceEvents(add, availableOf(w.caughtUp), availableOf(w.final), w.threshold, account, w.now);
  // Stable: events of one instant keep the order they were found in.
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => e);
}

type Add = <T extends EventType>(type: T, at: number, data: EventData[T]) => void;

function balanceEvents(add: Add, before: number, after: number, threshold: number, account: string, at: number) {
  const type = crossing(before, after, threshold);
  if (type === 'balance.low') add(type, at, { account, available: after, threshold });
  else if (type !== null) add(type, at, { account, available: after });
}

/** Whether a write causes no event: no crossing in either step, no renewal or expiry, no plan change. */
function quiet(w: WriteSteps): boolean {
  if (
    w.stored &&
    (w.stored.plan !== w.final.plan || crossing(availableOf(w.stored), availableOf(w.caughtUp), w.threshold))
  ) {
    return false;
  }
  if (crossing(availableOf(w.caughtUp), availableOf(w.final), w.threshold)) return false;
  for (const e of w.entries) if (e.kind === 'cycle_grant' || e.kind === 'grant_expiry') return false;
  return true;
}

/** A renewal (`cycle_grant`, with its `cycle_expiry`) and a grant's expiry, from the entries that record them. */
function entryEvents(add: Add, entries: readonly EntryDraft[], account: string) {
  for (const e of entries) {
    if (e.kind === 'cycle_grant') {
      const expiry = entries.find(
        (x) => x.kind === 'cycle_expiry' && x.source === e.source && x.reference === e.reference,
      );
      // The unused allocation moved into the new grant: what the old grants gave up without expiring.
      const rolledOver = -e.grantMoves.filter((m) => m.delta < 0).reduce((sum, m) => sum + m.delta, 0);
      add('cycle.renewed', e.at, {
        account,
        granted: e.amount,
        rolled_over: rolledOver,
        expired: -(expiry?.amount ?? 0),
      });
    } else if (e.kind === 'grant_expiry' && e.amount < 0) {
      for (const m of e.grantMoves) add('grant.expired', e.at, { account, grant_id: m.grant, tokens: -m.delta });
    }
  }
}
