// One run of the pool model test: each operation goes to the engine and to the pool model, their
// answers must agree, and after it every account, every membership and the stated properties
// are checked (see pools-model.test.ts).
import assert from 'node:assert/strict';
import type { ManualClock } from '../../src/core/clock.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { Deducted, MembershipView, Refusal, Reserved } from '../../src/ledger/types.ts';
import { codeOf } from './model-run.ts';
import { type MemberRow, POOL, type PoolModel } from './pool-model.ts';
import { type MemberStart, POOL_MEMBERS, type PoolOp } from './pool-model-ops.ts';

type Op<K extends PoolOp['op']> = Extract<PoolOp, { op: K }>;

const ACCOUNTS = [POOL, ...POOL_MEMBERS];

export class PoolRun {
  private readonly ledger: TokenLedger;
  private readonly clock: ManualClock;
  private readonly model: PoolModel;
  /** Engine hold id and the model's number, in the order reserved. */
  private readonly holds: { engine: number; model: number }[] = [];
  /** First answers of keyed deductions and reservations, by account and key. */
  private readonly deductKeys = new Map<string, { feature: string; quantity: number; answer: Deducted }>();
  private readonly reserveKeys = new Map<string, { amount: number; ttl: number; answer: Reserved }>();
  /** What this step's answers credited and charged, for the conservation check. */
  private credited = 0;
  private charged = 0;
  private total = 0;
  private granted = 0;
  private ended = 0;
  /** Each listed membership's used + held after the previous step. */
  private usage = new Map<string, number>();
  private step = 0;

  constructor(ledger: TokenLedger, clock: ManualClock, model: PoolModel) {
    this.ledger = ledger;
    this.clock = clock;
    this.model = model;
  }

  /** The pool, then each member after its pause: a plain account, a member from its first write, or both. */
  async setup(starts: readonly MemberStart[]): Promise<void> {
    await this.ledger.createAccount({ account: POOL });
    for (const [i, start] of starts.entries()) {
      const member = POOL_MEMBERS[i];
      if (member === undefined) break;
      this.advance(start.pause);
      if (start.how !== 'member') {
        await this.ledger.createAccount({ account: member });
        this.model.createAccount(member);
      }
      if (start.how !== 'account') await this.join({ op: 'join', member, limit: start.limit }, `setup of ${member}`);
    }
    this.total = this.model.total();
    [this.granted, this.ended] = [this.model.granted, this.model.ended];
    await this.check('setup', null);
  }

  async apply(o: PoolOp): Promise<void> {
    this.step += 1;
    this.credited = 0;
    this.charged = 0;
    const where = `step ${this.step}: ${JSON.stringify(o)}`;
    if (o.op === 'advance') this.advance(o.ms);
    else if (o.op === 'deduct' || o.op === 'drain' || o.op === 'pool-deduct') await this.deduct(o, where);
    else if (o.op === 'credit') await this.credit(o, where);
    else if (o.op === 'reserve') await this.reserve(o, where);
    else if (o.op === 'commit' || o.op === 'release') await this.settle(o, where);
    else if (o.op === 'join') await this.join(o, where);
    else await this.leave(o, where);
    await this.check(where, o.op === 'join' ? o.member : null);
  }

  /** Ends a run: the ledger reconciles clean (memberships' usage and held included). */
  async finish(): Promise<void> {
    assert.deepEqual((await this.ledger.reconcile()).drift, []);
  }

  private advance(ms: number): void {
    if (ms === 0) return;
    this.clock.advance(ms);
    this.model.advance(ms);
  }

  private async deduct(o: Op<'deduct' | 'drain' | 'pool-deduct'>, where: string): Promise<void> {
    const account = o.op === 'pool-deduct' ? POOL : o.member;
    const feature = o.op === 'drain' ? 'outbound_call_single' : o.feature;
    const quantity = o.op === 'drain' ? Math.max(1, this.model.spendable(o.member) + o.offset) : o.quantity;
    const key = o.op === 'deduct' ? o.key : null;
    const prior = key === null ? undefined : this.deductKeys.get(`${account}/${key}`);
    const real = await this.ledger.deduct({ account, feature, quantity, ...(key ? { idempotencyKey: key } : {}) });
    if (prior) {
      // The same key again: its first answer field for field, nothing charged; other parameters conflict.
      if (prior.feature === feature && prior.quantity === quantity) {
        assert.deepEqual(real, { ...prior.answer, replayed: true }, where);
      } else this.conflict(real, account, where);
      return;
    }
    const expected = this.model.deduct(account, feature, quantity);
    assert.equal(real.ok, expected.ok, `${where}: ${JSON.stringify({ real, expected })}`);
    if (real.ok && expected.ok) {
      assert.deepEqual(
        { cost: real.cost, pooled: real.pooled, balance: real.balance, available: real.available },
        { cost: expected.cost, pooled: expected.pooled, balance: expected.balance, available: expected.available },
        where,
      );
      this.charged += real.cost;
      if (key) this.deductKeys.set(`${account}/${key}`, { feature, quantity, answer: real });
    } else if (!real.ok && !expected.ok) {
      assert.deepEqual(
        { code: real.code, message: real.message, balance: real.balance, available: real.available },
        {
          code: 'insufficient_tokens',
          message: expected.message,
          balance: expected.balance,
          available: expected.available,
        },
        where,
      );
    }
  }

  /** An idempotency conflict quotes the account's figures now; nothing moves. */
  private conflict(real: { ok: true } | Refusal, account: string, where: string): void {
    assert.equal(real.ok, false, where);
    if (real.ok) return;
    assert.deepEqual(
      { code: real.code, balance: real.balance, available: real.available },
      { code: 'idempotency_conflict', ...this.model.figures(account) },
      where,
    );
  }

  private async credit(o: Op<'credit'>, where: string): Promise<void> {
    const account = o.account === 'pool' ? POOL : o.account;
    const real = await this.ledger.credit({ account, tokens: o.tokens, source: 'model', reference: `c${this.step}` });
    const expected = this.model.credit(account, o.tokens);
    assert.ok(real.ok, where);
    assert.equal(real.balance, expected.balance, where);
    assert.equal(real.available, this.model.figures(account).available, `available answered: ${where}`);
    this.credited += o.tokens;
  }

  private async reserve(o: Op<'reserve'>, where: string): Promise<void> {
    const prior = o.key === null ? undefined : this.reserveKeys.get(`${o.member}/${o.key}`);
    const real = await this.ledger.reserve({
      account: o.member,
      amount: o.amount,
      ttlSeconds: o.ttl,
      ...(o.key ? { idempotencyKey: o.key } : {}),
    });
    if (prior) {
      if (prior.amount === o.amount && prior.ttl === o.ttl) {
        assert.deepEqual(real, { ...prior.answer, replayed: true }, where);
      } else this.conflict(real, o.member, where);
      return;
    }
    const expected = this.model.reserve(o.member, o.amount, o.ttl);
    assert.equal(real.ok, expected.ok, `${where}: ${JSON.stringify({ real, expected })}`);
    if (real.ok && expected.ok) {
      assert.deepEqual(
        { expiresAt: real.expiresAt, balance: real.balance, available: real.available },
        { expiresAt: expected.expiresAt, balance: expected.balance, available: expected.available },
        where,
      );
      this.holds.push({ engine: real.holdId, model: expected.hold });
      if (o.key) this.reserveKeys.set(`${o.member}/${o.key}`, { amount: o.amount, ttl: o.ttl, answer: real });
    } else if (!real.ok && !expected.ok) {
      assert.deepEqual(
        { message: real.message, balance: real.balance, available: real.available },
        { message: expected.message, balance: expected.balance, available: expected.available },
        where,
      );
    }
  }

  private async settle(o: Op<'commit' | 'release'>, where: string): Promise<void> {
    const hold = this.holds[o.pick % Math.max(1, this.holds.length)];
    if (!hold) return;
    const owner = this.model.holdOwner(hold.model) ?? '';
    const real =
      o.op === 'commit'
        ? await this.ledger.commitHold(hold.engine, o.actual)
        : await this.ledger.releaseHold(hold.engine);
    const expected = o.op === 'commit' ? this.model.commit(hold.model, o.actual) : this.model.release(hold.model);
    const at = `${where} (hold ${hold.engine} of ${owner})`;
    assert.equal(real.ok, expected.ok, `${at}: ${JSON.stringify({ real, expected })}`);
    // Every answer quotes the member's standing now: its own available and its current pool's share.
    const figures = expected.ok ? expected : this.model.figures(owner);
    const shown = { balance: real.balance, available: real.available };
    const wanted = { balance: figures.balance, available: figures.available };
    if (real.ok && expected.ok) {
      assert.deepEqual(
        { charged: real.charged, shortfall: real.shortfall, ...shown },
        { charged: expected.charged, shortfall: expected.shortfall, ...wanted },
        at,
      );
      this.charged += real.charged;
    } else if (!real.ok) {
      assert.deepEqual({ code: real.code, ...shown }, { code: 'hold_not_active', ...wanted }, at);
    }
  }

  private async join(o: Op<'join'>, where: string): Promise<void> {
    const real = await this.ledger.joinPool({ member: o.member, pool: POOL, limitPerCycle: o.limit });
    const expected = this.model.join(o.member, o.limit);
    assert.equal(real.pool, POOL, where);
    this.sameRow(real, expected, `joinPool's answer: ${where}`);
  }

  private async leave(o: Op<'leave'>, where: string): Promise<void> {
    const code = await codeOf(() => this.ledger.leavePool(o.member));
    assert.equal(code, this.model.leave(o.member) ? null : 'not_found', where);
  }

  /** A membership as the engine shows it, beside the model's (`held`: the pool's live holds for the member). */
  private sameRow(shown: MembershipView, expected: MemberRow, where: string): void {
    const { held, remainingThisCycle, ...rest } = shown;
    assert.deepEqual(
      rest,
      {
        pool: POOL,
        member: expected.member,
        limitPerCycle: expected.limitPerCycle,
        usedThisCycle: expected.usedThisCycle,
        cycleStart: expected.cycleStart,
        joinedAt: expected.joinedAt,
      },
      where,
    );
    assert.deepEqual(
      { held, remainingThisCycle },
      { held: expected.held, remainingThisCycle: expected.remainingThisCycle },
      where,
    );
  }

  /**
   * Every account and membership against the model, then the properties the rules state:
   * the pool is never below zero available, no step raises a membership's used + held above its
   * limit (`joined`: a member whose limit the operator just set, which may be below its usage),
   * and the sum of all balances moves only by what was credited, charged, granted by a cycle or ended.
   */
  private async check(where: string, joined: string | null): Promise<void> {
    let total = 0;
    for (const id of ACCOUNTS) {
      const view = await this.ledger.getBalance(id);
      total += view.balance;
      assert.deepEqual(
        {
          balance: view.balance,
          available: view.available,
          held: view.held,
          allocation: view.allocation,
          purchased: view.purchased,
          debt: view.debt,
          featuresDisabled: view.featuresDisabled,
          pool: view.pool,
        },
        this.model.view(id),
        `balance of ${id} after ${where}`,
      );
      if (id === POOL) assert.ok(view.available >= 0, `the pool is overdrawn after ${where}`);
    }

    const rows = await this.ledger.poolMembers(POOL);
    const expected = this.model.members();
    assert.deepEqual(
      rows.map((r) => r.member),
      expected.map((r) => r.member),
      `members after ${where}`,
    );
    const usage = new Map<string, number>();
    rows.forEach((row, i) => {
      this.sameRow(row, expected[i] as MemberRow, `member ${row.member} after ${where}`);
      const now = row.usedThisCycle + row.held;
      const before = this.usage.get(row.member);
      if (row.limitPerCycle !== null && row.member !== joined && before !== undefined && now > before) {
        assert.ok(
          now <= row.limitPerCycle,
          `${row.member} passed its limit: ${now} > ${row.limitPerCycle} after ${where}`,
        );
      }
      usage.set(row.member, now);
    });
    this.usage = usage;

    const granted = this.model.granted - this.granted;
    const ended = this.model.ended - this.ended;
    assert.equal(
      total,
      this.total + this.credited - this.charged + granted - ended,
      `tokens not conserved after ${where}: credited ${this.credited}, charged ${this.charged}, granted ${granted}, ended ${ended}`,
    );
    this.total = total;
    [this.granted, this.ended] = [this.model.granted, this.model.ended];
  }
}
