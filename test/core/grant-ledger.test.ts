import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AccountState, availableOf, balanceOf } from '../../src/core/account-state.ts';
import { decideAdjust } from '../../src/core/adjust.ts';
import { burnOrder } from '../../src/core/burn-order.ts';
import type { Plan } from '../../src/core/catalog.ts';
import { decideCredit } from '../../src/core/credit.ts';
import { decideDeduct } from '../../src/core/deduct.ts';
import type { EntryDraft } from '../../src/core/entry.ts';
import { decideGrant } from '../../src/core/grant-decision.ts';
import { decideVoid } from '../../src/core/grant-void.ts';
import type { Posted } from '../../src/core/posting.ts';
import { provision } from '../../src/core/provision.ts';
import { bringUpToDate } from '../../src/core/renewal.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 15);
const free: Plan = { id: 'free', name: 'Free', monthlyAllocation: 100, rolloverCap: 0 };
const starter: Plan = { id: 'starter', name: 'Starter', monthlyAllocation: 1000, rolloverCap: 500 };
const feature = { id: 'call', name: 'Call', cost: 1, holdTtlSeconds: 60, handlerUrl: null };

/** Gives draft grants stored ids, as the ledger does before writing. */
let nextId = 1;
function store(p: Posted): Posted {
  const map = new Map<number, number>();
  for (const g of p.state.grants) if (g.id < 0) map.set(g.id, nextId++);
  const real = (id: number) => map.get(id) ?? id;
  return {
    state: { ...p.state, grants: p.state.grants.map((g) => ({ ...g, id: real(g.id) })) },
    entries: p.entries.map((e) => ({ ...e, grantMoves: e.grantMoves.map((m) => ({ ...m, grant: real(m.grant) })) })),
  };
}

/** Every invariant `reconcile` will check, on one account and the entries that built it. */
function assertConsistent(state: AccountState, entries: readonly EntryDraft[]): void {
  const moved = new Map<number, number>();
  for (const e of entries) {
    assert.equal(e.amount, e.allocationDelta + e.purchasedDelta + e.promotionalDelta - e.debtDelta);
    for (const m of e.grantMoves) moved.set(m.grant, (moved.get(m.grant) ?? 0) + m.delta);
  }
  const sum = (pick: (e: EntryDraft) => number) => entries.reduce((s, e) => s + pick(e), 0);
  assert.equal(
    balanceOf(state),
    sum((e) => e.amount),
    'balance = Σ entries',
  );
  assert.equal(
    state.debt,
    sum((e) => e.debtDelta),
    'debt = Σ debt moves',
  );
  assert.ok(state.debt >= 0);
  for (const g of state.grants) {
    assert.equal(g.remaining, moved.get(g.id) ?? 0, `grant ${g.id}: remaining = Σ its moves`);
    assert.ok(g.remaining >= 0 && g.remaining <= g.tokens);
    if (g.status === 'expired' || g.status === 'voided') assert.equal(g.remaining, 0);
  }
  for (const [category, figure] of [
    ['included', state.allocation],
    ['paid', state.purchased],
    ['promotional', state.promotional],
  ] as const) {
    const held = state.grants.filter((g) => g.category === category).reduce((s, g) => s + g.remaining, 0);
    assert.equal(figure, held, `${category} sum = its grants' remaining`);
  }
  const last = entries.at(-1);
  if (last) assert.equal(last.balanceAfter, balanceOf(state));
}

describe('grants in core', () => {
  it('a new free account opens with an included grant of 100, spent before purchased tokens', () => {
    let p = store(provision('u1', free, T0));
    p = store(
      stepped(
        p,
        decideCredit(p.state, 500, 'purchase', { source: 'test', reference: 'cs_1', reason: null, actor: null }, T0),
      ),
    );
    const d = decideDeduct(p.state, { ...feature, cost: 150 }, 1, null, T0 + 1);
    assert.ok(d.ok);
    assert.equal(d.state.allocation, 0);
    assert.equal(d.state.purchased, 450);
    assert.equal(balanceOf(d.state), 450);
  });

  it('a promotional grant expiring sooner is spent first; at its expiry what is left leaves the balance once', () => {
    let p = store(provision('u1', free, T0));
    const g = decideGrant(
      p.state,
      { category: 'promotional', tokens: 50, expiresAt: T0 + 10 * DAY, source: 'grant', reference: 'bonus' },
      T0,
    );
    p = store(stepped(p, g));
    assert.equal(burnOrder(p.state.grants, T0, T0 + 31 * DAY)[0]?.category, 'promotional');
    const d = decideDeduct(p.state, feature, 20, null, T0 + DAY);
    assert.ok(d.ok);
    p = stepped(p, d);
    assert.equal(p.state.promotional, 30);
    const later = bringUpToDate(p.state, free, T0 + 11 * DAY);
    assert.deepEqual(
      later.entries.map((e) => [e.kind, e.amount]),
      [['grant_expiry', -30]],
    );
    assert.equal(balanceOf(later.state), 100);
    assert.equal(bringUpToDate(later.state, free, T0 + 12 * DAY).entries.length, 0);
  });

  it('debt: a refund beyond the grants leaves a debt that promotional and included grants never pay', () => {
    let p = store(provision('u1', free, T0));
    p = stepped(p, decideAdjust(p.state, -300, 'mistake', 'ops', T0));
    assert.equal(p.state.debt, 200);
    assert.equal(balanceOf(p.state), -200);
    p = store(
      stepped(
        p,
        decideGrant(
          p.state,
          { category: 'promotional', tokens: 50, expiresAt: null, source: 'grant', reference: 'x' },
          T0,
        ),
      ),
    );
    assert.equal(p.state.debt, 200);
    p = store(
      stepped(
        p,
        decideCredit(p.state, 500, 'purchase', { source: 't', reference: 'cs', reason: null, actor: null }, T0),
      ),
    );
    assert.equal(p.state.debt, 0);
    assert.equal(balanceOf(p.state), 350);
  });

  it('voiding a grant removes what remains of it, once', () => {
    let p = store(provision('u1', free, T0));
    p = store(
      stepped(
        p,
        decideGrant(
          p.state,
          { category: 'promotional', tokens: 40, expiresAt: null, source: 'grant', reference: 'y' },
          T0,
        ),
      ),
    );
    const id = p.state.grants.find((g) => g.category === 'promotional')?.id ?? 0;
    p = stepped(p, decideVoid(p.state, id, 'abuse', 'ops', T0));
    assert.equal(balanceOf(p.state), 100);
    assert.throws(() => decideVoid(p.state, id, 'again', 'ops', T0), /not active/);
  });

  it('property: any sequence of grants, charges, corrections, voids and time keeps every invariant', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('deduct' as const), n: fc.integer({ min: 1, max: 400 }) }),
      fc.record({
        t: fc.constant('grant' as const),
        n: fc.integer({ min: 1, max: 500 }),
        paid: fc.boolean(),
        days: fc.option(fc.integer({ min: 1, max: 60 })),
        priority: fc.integer({ min: 0, max: 100 }),
      }),
      fc.record({ t: fc.constant('adjust' as const), n: fc.integer({ min: -600, max: 600 }).filter((n) => n !== 0) }),
      fc.record({ t: fc.constant('void' as const), n: fc.nat() }),
      fc.record({ t: fc.constant('wait' as const), n: fc.integer({ min: 1, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, onStarter) => {
        const plan = onStarter ? starter : free;
        let now = T0;
        let p = store(provision('u1', plan, now));
        const entries: EntryDraft[] = [...p.entries];
        let refs = 0;
        for (const o of ops) {
          const up = store(bringUpToDate(p.state, plan, now));
          p = up;
          entries.push(...up.entries);
          let step: Posted | null = null;
          if (o.t === 'deduct') {
            const d = decideDeduct(p.state, feature, o.n, null, now);
            if (d.ok) {
              step = d;
              assert.equal(d.entries[0]?.debtDelta, 0, 'a guarded charge never makes a debt');
            } else assert.ok(availableOf(p.state) < o.n);
          } else if (o.t === 'grant') {
            step = decideGrant(
              p.state,
              {
                category: o.paid ? 'paid' : 'promotional',
                tokens: o.n,
                priority: o.priority,
                expiresAt: o.days === null ? null : now + o.days * DAY,
                source: 'grant',
                reference: `r${refs++}`,
              },
              now,
            );
          } else if (o.t === 'adjust') {
            step = decideAdjust(p.state, o.n, 'fix', 'ops', now);
          } else if (o.t === 'void') {
            const live = p.state.grants.filter((g) => g.status === 'active');
            const g = live[o.n % Math.max(1, live.length)];
            if (g) step = decideVoid(p.state, g.id, 'void', 'ops', now);
          } else {
            now += o.n * DAY;
          }
          if (step) {
            const s = store(step);
            p = s;
            entries.push(...s.entries);
          }
          assertConsistent(p.state, entries);
        }
      }),
      { numRuns: 300 },
    );
  });
});

function stepped(_before: Posted, next: Posted): Posted {
  return next;
}
