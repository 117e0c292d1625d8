// Shared pools across server processes (issue 18): two `tokenmeter serve` processes on one
// PostgreSQL database (one with group commit, one without) take hundreds of concurrent
// deductions, holds and the pool's own spending from ten members of one pool, some with a limit
// per cycle, some with tokens of their own. Keyed requests are retried on 503 with the same key,
// and some are sent to both servers at once. Then, from the answers, the histories and the
// members list: the pool never went below zero, no member passed its limit, what the answers say
// the pool paid is exactly what the pool lost less its own spending, each member's usage is what
// it drew, no key was charged twice, and reconcile is clean.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { random } from '../helpers/bank-workload.ts';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';
import { call, type Json, num } from '../helpers/server-call.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const SEED = Number(process.env.POOL_SEED ?? Math.floor(Math.random() * 1e6));
// The pool's id sorts before its members': a batch naming the pool and a member would lock the
// pool first if it took ids in order, the opposite of every member's write.
const POOL = 'agency';
const OPENING = 600;
/** Ten members: limits per cycle (null: none; 0: nothing from the pool) and tokens of their own. */
const MEMBERS = [
  { id: 'client-0', limit: 30, own: 0 },
  { id: 'client-1', limit: null, own: 12 },
  { id: 'client-2', limit: 12, own: 0 },
  { id: 'client-3', limit: 0, own: 0 },
  { id: 'client-4', limit: 45, own: 8 },
  { id: 'client-5', limit: null, own: 0 },
  { id: 'client-6', limit: 20, own: 0 },
  { id: 'client-7', limit: null, own: 15 },
  { id: 'client-8', limit: 60, own: 0 },
  { id: 'client-9', limit: null, own: 0 },
] as const;
const FEATURES = ['outbound_call_single', 'crm_ai_agent', 'business_collector'] as const;

/** A deduction or commit that charged (not a replay), as its answer said. */
interface Charge {
  account: string;
  key: string | null;
  cost: number;
  /** What the pool paid of it (0 for the pool's own spending). */
  pooled: number;
}

/** Everything the storm's answers said, and every answer that was not allowed. */
class Tally {
  readonly charges: Charge[] = [];
  /** Per key: the entry ids of its answers that charged or replayed. */
  readonly keyed = new Map<string, { account: string; charged: number; entries: Set<number> }>();
  readonly refused = new Map<string, number>();
  readonly problems: string[] = [];

  problem(what: string, r: { status: number; body: Json }): void {
    if (this.problems.length < 50) this.problems.push(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** A deduction's answer: charged, replayed or refused for want of tokens, nothing else. */
  deducted(account: string, cost: number, key: string | null, r: { status: number; body: Json }): void {
    const what = `deduct ${cost} by ${account}${key ? ` (${key})` : ''}`;
    if (r.status === 402 && r.body.code === 'insufficient_tokens') {
      if (!(num(r.body, 'available') < cost)) this.problem(`${what} refused with enough available`, r);
      this.refused.set(account, (this.refused.get(account) ?? 0) + 1);
      return;
    }
    if (r.status !== 200 || num(r.body, 'cost') !== cost) {
      this.problem(what, r);
      return;
    }
    const isMember = account !== POOL;
    const pooled = isMember ? num(r.body, 'pooled') : 0;
    if (isMember && !(pooled >= 0 && pooled <= cost)) this.problem(`${what}: pooled out of range`, r);
    if (!(num(r.body, 'available') >= 0)) this.problem(`${what}: available below zero after`, r);
    if (key !== null) {
      const seen = this.keyed.get(key) ?? { account, charged: 0, entries: new Set<number>() };
      this.keyed.set(key, seen);
      seen.entries.add(num(r.body, 'entry_id'));
      if (r.body.replayed === true) return;
      seen.charged += 1;
    }
    this.charges.push({ account, key, cost, pooled });
  }

  pooledBy(account: string): number {
    return this.charges.filter((c) => c.account === account).reduce((sum, c) => sum + c.pooled, 0);
  }

  ownSpentBy(account: string): number {
    return this.charges.filter((c) => c.account === account).reduce((sum, c) => sum + c.cost - c.pooled, 0);
  }
}

/** A POST; with a key, sent again with the same key while the server answers 503. */
async function post(url: string, path: string, body: Json, key: string | null) {
  for (let attempt = 1; ; attempt++) {
    const r = await call(url, 'POST', path, { body: key === null ? body : { ...body, idempotency_key: key } });
    if (r.status !== 503 || key === null || attempt === 20) return r;
  }
}

/** `xs` in a random order drawn from `rnd`. */
function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Runs `tasks` in order, `width` at a time. */
async function inParallel(tasks: readonly (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]?.();
  };
  await Promise.all(Array.from({ length: width }, lane));
}

/** Every entry of an account's history, newest first. */
async function historyOf(url: string, account: string): Promise<Json[]> {
  const entries: Json[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const r = await call(url, 'GET', `/api/tokens/history?account=${account}&limit=1000${query}`, { as: 'admin' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    entries.push(...((r.body.entries as Json[] | undefined) ?? []));
    cursor = typeof r.body.next_cursor === 'string' ? r.body.next_cursor : null;
  } while (cursor !== null);
  return entries;
}

describe('a shared pool across two server processes (PostgreSQL)', {
  skip: await pgSuiteSkip(),
  timeout: 120_000,
}, () => {
  let db: TestDatabase | undefined;
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const s of servers) await s.kill();
    await db?.drop();
  });

  it('members deducting and holding through both never overdraw the pool or pass a limit; reconcile clean', async (t) => {
    t.diagnostic(`seed ${SEED} (repeat with POOL_SEED=${SEED})`);
    db = await createTestDatabase();
    // One after the other: the first applies the migrations. The second writes one transaction
    // per operation, so batches and single writes race on the same rows.
    servers.push(await startServerProcess({ databaseUrl: db.url }));
    servers.push(await startServerProcess({ databaseUrl: db.url, env: { TOKENMETER_GROUP_COMMIT: 'off' } }));
    const [a, b] = servers.map((s) => s.url) as [string, string];

    const features = (await call(a, 'GET', '/api/tokens/balance?account=probe')).body.features as Record<
      string,
      { cost: number }
    >;
    const costOf = (feature: string) => features[feature]?.cost ?? Number.NaN;

    const opened = await call(a, 'POST', `/api/admin/accounts/${POOL}/adjust`, {
      as: 'admin',
      body: { balance: OPENING, reason: 'pool opening' },
    });
    assert.equal(opened.body.balance, OPENING, JSON.stringify(opened.body));
    for (const [i, m] of MEMBERS.entries()) {
      const joined = await call(i % 2 === 0 ? a : b, 'PUT', `/api/admin/accounts/${m.id}/pool`, {
        as: 'admin',
        body: { pool: POOL, limit_per_cycle: m.limit },
      });
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      if (m.own === 0) continue;
      const given = await call(b, 'POST', `/api/admin/accounts/${m.id}/adjust`, {
        as: 'admin',
        body: { amount: m.own, reason: 'own tokens' },
      });
      assert.equal(given.body.balance, m.own, JSON.stringify(given.body));
    }

    // The storm, in a seeded random order, each request to either server, 120 at a time (a
    // server takes at most 204 connections from one address). Every member's write locks the
    // pool's row, so a request waits behind the whole queue: a stall on that row (a deadlock
    // PostgreSQL takes deadlock_timeout to find) made some wait past the store's 15 s connection
    // timeout on CI, and their 503s are answers this test does not accept.
    const rnd = random(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const server = () => (rnd() < 0.5 ? a : b);
    const tally = new Tally();
    let demand = 0;
    const storm: (() => Promise<void>)[] = [];
    /** A feature use to ask for: what it costs counts toward the demand once, however often it is sent. */
    const use = (account: string) => {
      const [feature, quantity] = [pick(FEATURES), int(1, 2)];
      const cost = costOf(feature) * quantity;
      demand += cost;
      return { account, feature, quantity, cost };
    };
    const deduct = (url: string, u: ReturnType<typeof use>, key: string | null) => async () => {
      const body = { account: u.account, feature: u.feature, quantity: u.quantity };
      tally.deducted(u.account, u.cost, key, await post(url, '/api/tokens/deduct', body, key));
    };
    for (let i = 0; i < 360; i++) {
      storm.push(deduct(server(), use(pick(MEMBERS).id), rnd() < 0.5 ? `storm-${SEED}-${i}` : null));
    }
    // The same key through both servers at once: charged once, the other answer its replay.
    for (let i = 0; i < 40; i++) {
      const u = use(pick(MEMBERS).id);
      const [first, second] = [deduct(a, u, `twin-${SEED}-${i}`), deduct(b, u, `twin-${SEED}-${i}`)];
      storm.push(async () => {
        await Promise.all([first(), second()]);
      });
    }
    // The pool spends its own tokens beside its members.
    for (let i = 0; i < 40; i++) storm.push(deduct(server(), use(POOL), rnd() < 0.5 ? `own-${SEED}-${i}` : null));
    // Holds by members with nothing of their own (so a commit's charge is all the pool's),
    // reserved on one server and settled on the other.
    const holders = MEMBERS.filter((m) => m.own === 0);
    for (let i = 0; i < 60; i++) {
      const m = pick(holders);
      const amount = int(1, 12);
      const commit = rnd() < 0.7;
      const actual = commit ? int(0, amount + 3) : 0;
      const key = rnd() < 0.5 ? `hold-${SEED}-${i}` : null;
      const [x, y] = rnd() < 0.5 ? [a, b] : [b, a];
      demand += actual;
      storm.push(async () => {
        const held = await post(x, '/api/tokens/reserve', { account: m.id, amount, ttl_seconds: 600 }, key);
        if (held.status === 402 && held.body.code === 'insufficient_tokens') {
          tally.refused.set(m.id, (tally.refused.get(m.id) ?? 0) + 1);
          return;
        }
        if (held.status !== 200 || num(held.body, 'amount') !== amount) return tally.problem(`reserve ${amount}`, held);
        const id = num(held.body, 'hold_id');
        const path = `/api/tokens/holds/${id}/${commit ? 'commit' : 'release'}`;
        const r = await call(y, 'POST', path, commit ? { body: { amount: actual } } : {});
        const charged = num(r.body, 'charged');
        if (r.status !== 200 || charged !== Math.min(actual, amount)) {
          return tally.problem(`${commit ? `commit ${actual} of` : 'release'} hold ${id} of ${amount}`, r);
        }
        if (charged > 0) tally.charges.push({ account: m.id, key: null, cost: charged, pooled: charged });
      });
    }
    const started = Date.now();
    await inParallel(shuffled(storm, rnd), 120);
    t.diagnostic(`storm: ${Date.now() - started} ms`);
    const refusals = [...tally.refused.values()].reduce((x, y) => x + y, 0);
    t.diagnostic(`${tally.charges.length} charges, ${refusals} refusals, ${storm.length} requests, demand ${demand}`);
    if (tally.problems.length > 0) for (const s of servers) t.diagnostic(`${s.url} log:\n${s.logTail(40)}`);
    assert.deepEqual(tally.problems, [], 'every answer a charge, a replay or a refusal for want of tokens');

    // The pool: never below zero, nothing left held; what it lost is its own spending and what
    // the answers say its members drew.
    const pool = (await call(b, 'GET', `/api/tokens/balance?account=${POOL}`)).body;
    assert.equal(pool.held, 0);
    assert.ok(num(pool, 'balance') >= 0, `pool balance ${pool.balance}`);
    const poolHistory = await historyOf(a, POOL);
    const poolOwn = tally.charges.filter((c) => c.account === POOL).reduce((sum, c) => sum + c.cost, 0);
    const pooled = tally.charges.reduce((sum, c) => sum + c.pooled, 0);
    assert.equal(pooled, OPENING - num(pool, 'balance') - poolOwn, "the members' pooled use is the pool's drop");
    assert.ok(demand > OPENING + MEMBERS.reduce((sum, m) => sum + m.own, 0), 'the storm asked for more than exists');
    assert.ok(refusals > 0, 'so some of it was refused');

    // Each member: within its limit, its usage exactly what the answers say it drew, its own
    // tokens spent exactly as the answers say, and the pool's entries naming it agree.
    const members = (await call(a, 'GET', `/api/admin/accounts/${POOL}/members`, { as: 'admin' })).body
      .members as Json[];
    assert.equal(members.length, MEMBERS.length);
    const drawnBy = new Map<string, number>();
    for (const e of poolHistory) {
      if (typeof e.member === 'string') drawnBy.set(e.member, (drawnBy.get(e.member) ?? 0) - num(e, 'amount'));
    }
    for (const m of MEMBERS) {
      const row = members.find((x) => x.member === m.id) ?? {};
      const used = num(row, 'used_this_cycle');
      if (m.limit !== null) assert.ok(used <= m.limit, `${m.id}: used ${used} of its limit ${m.limit}`);
      assert.equal(row.held, 0, `${m.id}: nothing held`);
      assert.equal(used, tally.pooledBy(m.id), `${m.id}: usage = the pooled part of its answers`);
      assert.equal(drawnBy.get(m.id) ?? 0, used, `${m.id}: usage = the pool's entries naming it`);
      const own = (await call(b, 'GET', `/api/tokens/balance?account=${m.id}`)).body;
      assert.equal(own.balance, m.own - tally.ownSpentBy(m.id), `${m.id}: its own tokens`);
      assert.equal((own.pool as Json | null)?.used_this_cycle, used);
    }
    const ids = new Set<string>(MEMBERS.map((m) => m.id));
    assert.deepEqual(
      [...drawnBy.keys()].filter((m) => !ids.has(m)),
      [],
      "the pool's entries name only its members",
    );

    // Every key charged at most once: one charging answer, one entry id, one debit on record,
    // and no debit for a key whose answers were refusals. (A hold reserved twice under one key
    // would have stayed held above.)
    const debitsByKey = new Map<string, number>();
    for (const account of [POOL, ...MEMBERS.map((m) => m.id)]) {
      const history = account === POOL ? poolHistory : await historyOf(b, account);
      assert.deepEqual(
        history.filter((e) => num(e, 'balance_after') < 0),
        [],
        `${account}: never below zero`,
      );
      for (const e of history) {
        if (e.kind === 'debit' && typeof e.idempotency_key === 'string') {
          debitsByKey.set(e.idempotency_key, (debitsByKey.get(e.idempotency_key) ?? 0) + 1);
        }
      }
    }
    for (const [key, seen] of tally.keyed) {
      assert.equal(seen.charged, 1, `${key}: charged by one answer`);
      assert.equal(seen.entries.size, 1, `${key}: every answer names one entry`);
    }
    assert.deepEqual(
      [...debitsByKey].filter(([key, n]) => n !== 1 || !tally.keyed.has(key)),
      [],
      'one debit for each key an answer charged, none for the others',
    );
    assert.ok(
      [...tally.keyed.keys()].some((k) => k.startsWith('twin-')),
      'some keys sent through both servers at once charged',
    );

    // (Fails while the bug pool-entry-order-pg.test.ts pins is open: a broken chain on the pool.)
    for (const url of [a, b]) {
      const reconcile = await call(url, 'GET', '/api/admin/reconcile', { as: 'admin' });
      assert.deepEqual(reconcile.body.drift, [], `reconcile on ${url}`);
      assert.equal(reconcile.body.accounts_checked, 1 + MEMBERS.length, 'the pool and its members');
    }
  });
});
