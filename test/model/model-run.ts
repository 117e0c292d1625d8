// One run of the model-based test: each operation goes to the engine and to the model, and their
// answers must agree; `compare` then checks every account (see compare-accounts.ts).
import assert from 'node:assert/strict';
import type { TokenPackage } from '../../src/core/catalog.ts';
import type { ManualClock } from '../../src/core/clock.ts';
import { TokenmeterError } from '../../src/core/errors.ts';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { GrantInput } from '../../src/ledger/types.ts';
import { catalog } from '../helpers/ledger.ts';
import { compareAccount, GrantIds } from './compare-accounts.ts';
import { MODEL_ACCOUNTS, type ModelOp } from './model-ops.ts';
import type { TokenModel } from './token-model.ts';

const PROVIDER = 'stripe';
const TOPUP = catalog.packages.get('tokens_100') as TokenPackage;

type Op<K extends ModelOp['op']> = Extract<ModelOp, { op: K }>;

/** The error code a call threw, or null when it answered. */
export async function codeOf(call: () => Promise<unknown>): Promise<string | null> {
  try {
    await call();
    return null;
  } catch (err) {
    if (err instanceof TokenmeterError) return err.code;
    throw err;
  }
}

export class ModelRun {
  private readonly ledger: TokenLedger;
  private readonly clock: ManualClock;
  private readonly model: TokenModel;
  private readonly ids = new GrantIds();
  private readonly holds: number[] = [];
  /** Grants made through ledger.grant: what was asked (for replays) and the engine's id. */
  private readonly made: { input: GrantInput; id: number }[] = [];
  /** Top-ups paid through the payments API: the provider's payment intent, the model's number. */
  private readonly paid: { intent: string; n: number }[] = [];
  /** Names this step's references and events, so each is new. */
  private step = 0;

  constructor(ledger: TokenLedger, clock: ManualClock, model: TokenModel) {
    this.ledger = ledger;
    this.clock = clock;
    this.model = model;
  }

  async apply(o: ModelOp): Promise<void> {
    this.step += 1;
    const where = `step ${this.step}: ${JSON.stringify(o)}`;
    if (o.op === 'advance') {
      this.clock.advance(o.ms);
      this.model.now = this.clock.now();
    } else if (o.op === 'deduct' || o.op === 'drain') await this.deduct(o, where);
    else if (o.op === 'deduct-many') await this.deductMany(o, where);
    else if (o.op === 'credit' || o.op === 'adjust' || o.op === 'set-balance') await this.correct(o, where);
    else if (o.op === 'buy' || o.op === 'refund' || o.op === 'dispute') await this.payment(o);
    else if (o.op === 'grant') await this.grant(o, where);
    else if (o.op === 'regrant' || o.op === 'void') await this.regrantOrVoid(o, where);
    else await this.hold(o, where);
    for (const id of MODEL_ACCOUNTS) await compareAccount(this.ledger, this.model, this.ids, id, where);
  }

  private async deduct(o: Op<'deduct' | 'drain'>, where: string): Promise<void> {
    const feature = o.op === 'deduct' ? o.feature : 'outbound_call_single';
    const quantity = o.op === 'deduct' ? o.quantity : Math.max(1, this.model.peek(o.account).available + o.offset);
    const real = await this.ledger.deduct({ account: o.account, feature, quantity });
    const expected = this.model.deduct(o.account, feature, quantity);
    assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
    if (real.ok && expected.ok) assert.equal(real.balance, expected.balance, where);
    if (!real.ok && !expected.ok) assert.equal(real.message, expected.message, where);
  }

  private async deductMany(o: Op<'deduct-many'>, where: string): Promise<void> {
    const settled = await this.ledger.deductMany(o.items);
    assert.equal(settled.length, o.items.length, where);
    o.items.forEach((item, i) => {
      const s = settled[i];
      assert.ok(s?.status === 'fulfilled', `${where}: item ${i} was not answered`);
      const real = s.value;
      const expected = this.model.deduct(item.account, item.feature, item.quantity);
      assert.equal(real.ok, expected.ok, JSON.stringify({ o, i, real, expected }));
      if (real.ok && expected.ok) assert.equal(real.balance, expected.balance, `${where}: item ${i}`);
      if (!real.ok && !expected.ok) assert.equal(real.message, expected.message, `${where}: item ${i}`);
    });
  }

  private async correct(o: Op<'credit' | 'adjust' | 'set-balance'>, where: string): Promise<void> {
    const operator = { account: o.account, reason: 'model', actor: 'model' };
    if (o.op === 'credit') {
      const real = await this.ledger.credit({
        account: o.account,
        tokens: o.tokens,
        source: 'model',
        reference: `c${this.step}`,
      });
      const expected = this.model.credit(o.account, o.tokens);
      assert.ok(real.ok && expected.ok, where);
      assert.equal(real.balance, expected.balance, where);
    } else if (o.op === 'adjust') {
      const real = await this.ledger.adjust({ ...operator, amount: o.amount });
      const expected = this.model.adjust(o.account, o.amount);
      assert.ok(real.ok && expected.ok, where);
      assert.equal(real.balance, expected.balance, where);
    } else {
      const real = await this.ledger.adjust({ ...operator, setBalance: o.target });
      const expected = this.model.setBalance(o.account, o.target);
      assert.ok(real.ok && expected.ok, where);
      assert.deepEqual([real.delta, real.balance], [expected.delta, expected.balance], where);
    }
  }

  private async payment(o: Op<'buy' | 'refund' | 'dispute'>): Promise<void> {
    if (o.op === 'buy') {
      const [reference, intent] = [`cs_${this.step}`, `pi_${this.step}`];
      await this.ledger.payments.startPayment({ provider: PROVIDER, reference, account: o.account, package: TOPUP });
      await this.paymentEvent({
        type: 'checkout_paid',
        reference,
        account: o.account,
        packageId: TOPUP.id,
        paymentIntent: intent,
        subscriptionId: null,
        customerId: null,
        amount: TOPUP.priceCents,
        currency: TOPUP.currency,
      });
      this.paid.push({ intent, n: this.model.purchase(o.account, TOPUP.tokens, TOPUP.priceCents) });
      return;
    }
    const payment = this.paid[o.pick % Math.max(1, this.paid.length)];
    const known = payment === undefined ? undefined : this.model.payments[payment.n];
    if (payment === undefined || known === undefined) return;
    if (o.op === 'refund') {
      const refunded = Math.min(known.amount, known.refunded + o.cents);
      await this.paymentEvent({
        type: 'charge_refunded',
        paymentIntent: payment.intent,
        chargeId: `ch_${payment.n}`,
        amountRefunded: refunded,
        receiptUrl: null,
      });
      this.model.refund(payment.n, refunded);
      return;
    }
    // Closes the payment's open dispute (won or lost), or opens one.
    const open = [...known.disputes].find(([, d]) => d.status === 'open');
    const [id, status, cents] = open
      ? [open[0], o.won ? ('won' as const) : ('lost' as const), open[1].amount]
      : [`dp_${this.step}`, 'open' as const, o.cents];
    await this.paymentEvent({
      type: 'dispute_changed',
      paymentIntent: payment.intent,
      disputeId: id,
      status,
      amount: cents,
    });
    this.model.dispute(payment.n, id, status, cents);
  }

  private async paymentEvent(command: PaymentCommand): Promise<void> {
    const outcome = await this.ledger.payments.applyEvent({
      provider: PROVIDER,
      eventId: `evt_${this.step}`,
      eventType: command.type,
      command,
    });
    assert.equal(outcome.status, 'applied', JSON.stringify({ step: this.step, command, outcome }));
  }

  private async grant(o: Op<'grant'>, where: string): Promise<void> {
    const now = this.clock.now();
    const expiresAt =
      o.expiry === null ? null : o.expiry === 'cycle-end' ? this.model.cycleEndOf(o.account) : now + o.expiry;
    // Effective strictly before it expires (an expiry not after the start is bad input).
    const effectiveAt =
      o.delay === null || (expiresAt !== null && now + o.delay >= expiresAt) ? undefined : now + o.delay;
    const asked = {
      category: o.category,
      tokens: o.tokens,
      expiresAt,
      ...(effectiveAt === undefined ? {} : { effectiveAt }),
      ...(o.priority === undefined ? {} : { priority: o.priority }),
    };
    const input: GrantInput = {
      account: o.account,
      ...asked,
      reason: 'model',
      actor: 'model',
      reference: `g${this.step}`,
    };
    const real = await this.ledger.grant(input);
    const expected = this.model.grant(o.account, asked);
    assert.deepEqual(
      { status: real.status, remaining: real.remaining, priority: real.priority },
      { status: expected.status, remaining: expected.remaining, priority: expected.priority },
      where,
    );
    this.ids.pair(expected.seq, real.id, where);
    this.made.push({ input, id: real.id });
  }

  private async regrantOrVoid(o: Op<'regrant' | 'void'>, where: string): Promise<void> {
    if (o.op === 'regrant') {
      const prior = this.made[o.pick % Math.max(1, this.made.length)];
      const expiresAt = prior?.input.expiresAt;
      // After its expiry the same request is bad input (an expiry already past), not a replay.
      if (!prior || (typeof expiresAt === 'number' && expiresAt <= this.clock.now())) return;
      if (o.conflict) {
        const code = await codeOf(() => this.ledger.grant({ ...prior.input, tokens: prior.input.tokens + 1 }));
        assert.equal(code, 'idempotency_conflict', where);
      } else {
        assert.equal((await this.ledger.grant(prior.input)).id, prior.id, where);
      }
      return;
    }
    const all = MODEL_ACCOUNTS.flatMap((id) => this.model.grants(id));
    const target = all[o.pick % Math.max(1, all.length)];
    const id = target === undefined ? undefined : this.ids.engine(target.seq);
    if (target === undefined || id === undefined) return;
    const code = await codeOf(() => this.ledger.voidGrant({ id, reason: 'model', actor: 'model' }));
    const expected = this.model.voidGrant(target.seq);
    assert.equal(code, expected.ok ? null : 'invalid_request', `${where} (grant ${id})`);
  }

  private async hold(o: Op<'reserve' | 'commit' | 'release'>, where: string): Promise<void> {
    if (o.op === 'reserve') {
      const real = await this.ledger.reserve({ account: o.account, amount: o.amount, ttlSeconds: o.ttl });
      const expected = this.model.reserve(o.account, o.amount, o.ttl);
      assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
      if (real.ok && expected.ok) {
        assert.equal(real.holdId, expected.holdId, where);
        this.holds.push(real.holdId);
      }
      return;
    }
    if (this.holds.length === 0) return;
    const holdId = this.holds[o.pick % this.holds.length] ?? 0;
    if (o.op === 'commit') {
      const real = await this.ledger.commitHold(holdId, o.actual);
      const expected = this.model.commit(holdId, o.actual);
      assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
      if (real.ok && expected.ok) assert.equal(real.charged, expected.charged, where);
    } else {
      assert.equal((await this.ledger.releaseHold(holdId)).ok, this.model.release(holdId).ok, where);
    }
  }
}
