import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { ledgerOn } from '../helpers/ledger.ts';

// A top-up's refunds and disputes, in any order between the account's own spending and later
// purchases: each step takes back exactly what the formula's figure moved by, and a won dispute
// gives back exactly what it took, whether the debt its take-back made is still owed or was
// paid since by another purchase. The free plan's 100 and each $5 top-up's 100 are the tokens.

type Status = 'open' | 'won' | 'lost';
type Facts = { refunds: number[]; disputes: { amount: number; final: Status }[] };
type Action = { event: PaymentCommand } | { spend: number | 'all' } | { buy: true };

const RANK: Record<Status, number> = { open: 1, won: 2, lost: 3 };

/** The formula over the facts delivered so far, computed here independently of `core/`. */
function formula(seen: PaymentCommand[]): number {
  let refunded = 0;
  const disputes = new Map<string, { amount: number; status: Status }>();
  for (const c of seen) {
    if (c.type === 'charge_refunded') refunded = Math.max(refunded, c.amountRefunded);
    if (c.type !== 'dispute_changed') continue;
    const d = disputes.get(c.disputeId);
    disputes.set(c.disputeId, {
      amount: Math.max(d?.amount ?? 0, c.amount),
      status: d && RANK[d.status] > RANK[c.status] ? d.status : c.status,
    });
  }
  const disputed = [...disputes.values()].reduce((s, d) => s + (d.status === 'won' ? 0 : d.amount), 0);
  return Math.floor((100 * Math.min(500, refunded + disputed)) / 500);
}

/** A dispute's events up to its final status, and each cumulative refund report. */
function chargeEvents(pi: string, f: Facts): PaymentCommand[] {
  const events: PaymentCommand[] = f.refunds.map((r, i) => ({
    type: 'charge_refunded',
    paymentIntent: pi,
    chargeId: `ch_${pi}_${i}`,
    amountRefunded: r,
    receiptUrl: null,
  }));
  f.disputes.forEach((d, i) => {
    const statuses: Status[] = d.final === 'open' ? ['open'] : ['open', d.final];
    for (const status of statuses) {
      events.push({ type: 'dispute_changed', paymentIntent: pi, disputeId: `dp_${pi}_${i}`, status, amount: d.amount });
    }
  });
  return events;
}

/**
 * When an action tends to happen, on a 0..100 scale: every window shares 40..60, so every order
 * can be drawn, but the likely ones spend before a dispute opens, buy while it is open, and
 * close it after: the debt case.
 */
function window(a: Action): { min: number; max: number } {
  if ('spend' in a) return { min: 0, max: 60 };
  if ('buy' in a) return { min: 30, max: 90 };
  if (a.event.type !== 'dispute_changed') return { min: 0, max: 100 };
  return a.event.status === 'open' ? { min: 20, max: 80 } : { min: 40, max: 100 };
}

// Whole-payment disputes and won ones are likely, and `all` spends what is available (a
// deduction the balance cannot pay is refused).
const scenario = fc
  .record({
    refunds: fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 2 }),
    disputes: fc.array(
      fc.record({
        amount: fc.oneof(fc.constant(500), fc.integer({ min: 1, max: 500 })),
        final: fc.constantFrom<Status>('open', 'won', 'won', 'lost'),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    spends: fc.array(fc.oneof(fc.constant('all' as const), fc.integer({ min: 1, max: 250 })), {
      minLength: 1,
      maxLength: 3,
    }),
    buys: fc.integer({ min: 1, max: 2 }),
  })
  .chain((g) => {
    const actions: Action[] = [
      ...chargeEvents('PI', g).map((event) => ({ event })),
      ...g.spends.map((spend) => ({ spend })),
      ...Array.from({ length: g.buys }, () => ({ buy: true as const })),
    ];
    return fc
      .tuple(...actions.map((a) => fc.integer(window(a)).map((at) => ({ at, a }))))
      .map((timed) => timed.sort((x, y) => x.at - y.at).map((t) => t.a));
  });

/** A generated event (about payment intent `PI`) made about `pi`. */
function about(c: PaymentCommand, pi: string): PaymentCommand {
  if (c.type === 'dispute_changed') return { ...c, paymentIntent: pi, disputeId: c.disputeId.replace('PI', pi) };
  if (c.type === 'charge_refunded') return { ...c, paymentIntent: pi, chargeId: c.chargeId.replace('PI', pi) };
  return c;
}

let seq = 0;
function send(ledger: TokenLedger, command: PaymentCommand) {
  return ledger.payments.applyEvent({
    provider: 'stripe',
    eventId: `evt_tb_${++seq}`,
    eventType: command.type,
    command,
  });
}

/** A paid $5 top-up of 100 tokens, with its payment intent. */
async function buy(ledger: TokenLedger, account: string, reference: string, pi: string) {
  await ledger.payments.startPayment({
    provider: 'stripe',
    reference,
    account,
    package: ledger.payments.findPackage('tokens_100'),
  });
  await send(ledger, {
    type: 'checkout_paid',
    reference,
    account,
    packageId: 'tokens_100',
    paymentIntent: pi,
    subscriptionId: null,
    customerId: null,
    amount: 500,
    currency: 'usd',
  });
}

const dispute = (pi: string, status: Status): PaymentCommand => ({
  type: 'dispute_changed',
  paymentIntent: pi,
  disputeId: `dp_${pi}`,
  status,
  amount: 500,
});

const runsOn: Record<string, number> = { sqlite: 40, postgres: 6 };

for (const backend of backends().filter((b) => b.name in runsOn)) {
  describe(`a take-back and its reversal between spending and purchases [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let run = 0;
    before(async () => {
      db = await backend.open();
      ({ ledger } = ledgerOn(db.store));
    });
    after(async () => {
      await ledger.close();
      await db.cleanup();
    });

    const balance = async (account: string) => (await ledger.getBalance(account)).balance;
    const takenBack = async (reference: string) =>
      (await ledger.payments.findPayment('stripe', reference))?.tokensTakenBack;

    it('a dispute won after its debt was paid by a later purchase gives the tokens back', async () => {
      for (const wonFirst of [true, false]) {
        const tag = `r${backend.name}${++run}`;
        const account = `acct_${tag}`;
        await buy(ledger, account, `cs_${tag}_a`, `pi_${tag}_a`);
        assert.equal((await ledger.deduct({ account, feature: 'outbound_call_single', quantity: 200 })).ok, true);
        await send(ledger, dispute(`pi_${tag}_a`, 'open'));
        assert.equal(await balance(account), -100);
        if (wonFirst) await send(ledger, dispute(`pi_${tag}_a`, 'won'));
        await buy(ledger, account, `cs_${tag}_b`, `pi_${tag}_b`);
        if (!wonFirst) await send(ledger, dispute(`pi_${tag}_a`, 'won'));
        // Paid $10 for 200 tokens, used 100, and the merchant kept both payments.
        const view = await ledger.getBalance(account);
        assert.deepEqual([view.balance, view.purchased, view.debt], [100, 100, 0], `won first: ${wonFirst}`);
        assert.equal(await takenBack(`cs_${tag}_a`), 0);
        if (!wonFirst) {
          // The debt the take-back made was paid by the second purchase: it comes back as a
          // never-expiring paid grant, named by the reversal's step.
          const grants = await ledger.grants(account);
          const back = grants.find((g) => g.reference.startsWith(`pi_${tag}_a:`));
          assert.deepEqual(
            [back?.category, back?.tokens, back?.remaining, back?.expiresAt, back?.source],
            ['paid', 100, 100, null, 'stripe'],
          );
        }
      }
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('each step moves the balance by exactly what the formula moved by, in any interleaving', async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (actions) => {
          const tag = `p${backend.name}${++run}`;
          const account = `acct_${tag}`;
          const pi = `pi_${tag}`;
          await buy(ledger, account, `cs_${tag}`, pi);
          let spent = 0;
          let buys = 0;
          const seen: PaymentCommand[] = [];
          for (const a of actions) {
            const before = await balance(account);
            if ('event' in a) {
              const taken = (await takenBack(`cs_${tag}`)) ?? 0;
              const event = about(a.event, pi);
              seen.push(event);
              await send(ledger, event);
              const now = (await takenBack(`cs_${tag}`)) ?? 0;
              assert.equal(now, formula(seen));
              assert.equal(await balance(account), before - (now - taken), `after ${JSON.stringify(event)}`);
            } else if ('spend' in a) {
              const available = (await ledger.getBalance(account)).available;
              const quantity = a.spend === 'all' ? Math.max(1, available) : a.spend;
              const r = await ledger.deduct({ account, feature: 'outbound_call_single', quantity });
              spent += r.ok ? r.cost : 0;
              assert.equal(await balance(account), before - (r.ok ? r.cost : 0));
            } else {
              await buy(ledger, account, `cs_${tag}_${++buys}`, `${pi}_${buys}`);
              assert.equal(await balance(account), before + 100);
            }
          }
          assert.equal(await balance(account), 200 + 100 * buys - spent - formula(seen));
          // The same books in every order: what was bought, less what was used and what the
          // payment's final facts take back.
          const steps = (await ledger.history(account, { limit: 1000 })).entries.filter(
            (e) => e.source === 'stripe' && e.reference?.startsWith(`${pi}:`),
          );
          assert.equal(
            steps.reduce((s, e) => s - e.amount, 0),
            formula(seen),
          );
        }),
        { numRuns: runsOn[backend.name] ?? 0 },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
