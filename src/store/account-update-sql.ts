// The guarded update of an account row, written once for the single write (`SqlWriteTx`) and
// both backends' group commit: the new values, and the overdraft guard the database evaluates
// on the row as it is, not on what JavaScript believed. A guarded write may not leave
// `available` below zero, nor lower than it was when already below (by `catchUp`: see
// `WriteTx.updateAccount`).
import type { AccountChange } from './store.ts';

/** SQL expressions for one account's move, each bound by the caller's statement. */
export interface AccountMoveSql {
  plan: string;
  /** Deltas of allocation, purchased, promotional, debt and held. */
  da: string;
  dp: string;
  dpr: string;
  dd: string;
  dh: string;
  used: string;
  rolled: string;
  anchor: string;
  cstart: string;
  lreset: string;
  driver: string;
  updated: string;
  /** A condition true for an exempt write (refunds, negative adjustments: no guard). */
  exempt: string;
  catchUp: string;
}

/** The SET list for the account row `a` (qualified by `a` where the statement names it so). */
export function accountSetSql(v: AccountMoveSql, a = ''): string {
  const col = (c: string) => (a ? `${a}.${c}` : c);
  return `plan = ${v.plan}, allocation = ${col('allocation')} + ${v.da}, purchased = ${col('purchased')} + ${v.dp},
  promotional = ${col('promotional')} + ${v.dpr}, debt = ${col('debt')} + ${v.dd}, held = ${col('held')} + ${v.dh},
  used_this_cycle = ${v.used}, rolled_over = ${v.rolled}, cycle_anchor = ${v.anchor}, cycle_start = ${v.cstart},
  last_reset = ${v.lreset}, cycle_driver = ${v.driver}, updated_at = ${v.updated}, version = ${col('version')} + 1`;
}

/** The overdraft guard on the row `a` (unqualified when empty), with `least` the dialect's two-argument minimum. */
export function accountGuardSql(v: AccountMoveSql, least: string, a = ''): string {
  const col = (c: string) => (a ? `${a}.${c}` : c);
  const [al, pu, pr, de, he] = ['allocation', 'purchased', 'promotional', 'debt', 'held'].map(col);
  return `(${v.exempt} OR (${al} + ${v.da}) + (${pu} + ${v.dp}) + (${pr} + ${v.dpr}) - (${de} + ${v.dd})
                     - (${he} + ${v.dh})
                     >= ${least}(0, ${al} + ${pu} + ${pr} - ${de} - ${he} + ${v.catchUp}))`;
}

/** One account's move as a record: a JSON object or a row of bound values in the batch statements. */
export interface AccountMoveRecord {
  id: string;
  plan: string;
  da: number;
  dp: number;
  dpr: number;
  dd: number;
  dh: number;
  used: number;
  rolled: number;
  anchor: number;
  cstart: number;
  lreset: number | null;
  driver: string;
  updated: number;
  version: number;
  exempt: boolean;
  catchup: number;
}

/** The record's fields, for a statement that unpacks them by name. */
export const ACCOUNT_MOVE_FIELDS: readonly (keyof AccountMoveRecord)[] = [
  'id',
  'plan',
  'da',
  'dp',
  'dpr',
  'dd',
  'dh',
  'used',
  'rolled',
  'anchor',
  'cstart',
  'lreset',
  'driver',
  'updated',
  'version',
  'exempt',
  'catchup',
];

export function accountMoveRecord({ before, after, guard, catchUp }: AccountChange): AccountMoveRecord {
  return {
    id: before.id,
    plan: after.plan,
    da: after.allocation - before.allocation,
    dp: after.purchased - before.purchased,
    dpr: after.promotional - before.promotional,
    dd: after.debt - before.debt,
    dh: after.held - before.held,
    used: after.usedThisCycle,
    rolled: after.rolledOver,
    anchor: after.cycleAnchor,
    cstart: after.cycleStart,
    lreset: after.lastReset,
    driver: after.cycleDriver,
    updated: after.updatedAt,
    version: before.version,
    exempt: guard === 'exempt',
    catchup: catchUp,
  };
}

/** The move's expressions as the fields of a record `v` holding `AccountMoveRecord`s. */
export function recordMoveSql(v: string): AccountMoveSql {
  const f = (name: keyof AccountMoveRecord) => `${v}.${name}`;
  return {
    plan: f('plan'),
    da: f('da'),
    dp: f('dp'),
    dpr: f('dpr'),
    dd: f('dd'),
    dh: f('dh'),
    used: f('used'),
    rolled: f('rolled'),
    anchor: f('anchor'),
    cstart: f('cstart'),
    lreset: f('lreset'),
    driver: f('driver'),
    updated: f('updated'),
    exempt: f('exempt'),
    catchUp: f('catchup'),
  };
}
