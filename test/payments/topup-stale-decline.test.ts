// A decline of an automatic top-up counts once, for the attempt it is about. Stripe's
// `payment_intent.payment_failed` for attempt 1 can arrive after the worker recorded that decline
// itself and started attempt 2; while attempt 2's PaymentIntent id was not stored yet, the late
// report was counted against attempt 2: a second `topup.failed`, a failure that never happened
// (suspending after two real declines), and attempt 2 moved back to pending, so the worker's
// remember for it threw. The PaymentIntent's metadata now names its attempt, and a report is
// applied only to that attempt; one from before attempts were named (no attempt in its metadata)
// only when it is the payment stored for the attempt under way.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { TopupAttempt } from '../../src/ledger/topup/auto-topup-ledger.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { applyEvent, armedAccount, eventsOf, mustBegin } from './topup-attempt-helpers.ts';

/** Stripe's `payment_intent.payment_failed` for a PaymentIntent of `a`, naming its attempt or (made before attempts were named) not. */
const declineWebhook = (a: TopupAttempt, paymentId: string, named = true) => ({
  type: 'topup_failed' as const,
  paymentId,
  intent: a.intent,
  attempt: named ? a.attempt : null,
  reason: 'insufficient_funds',
});

const runsOn: Record<string, number> = { sqlite: 40, postgres: 8 };

for (const backend of backends().filter((b) => b.name in runsOn)) {
  describe(`a decline counts for the attempt it is about [${backend.name}]`, { timeout: 120_000 }, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    beforeEach(async () => {
      db = await backend.open();
      ({ ledger } = ledgerOn(db.store, undefined, false, { topupRetryMs: 0 }));
    });
    afterEach(async () => {
      await ledger.close();
      await db.cleanup();
    });

    /** A Stripe card, auto top-up on (an intent at once), attempt 1 with its PaymentIntent stored. */
    async function firstAttempt(account: string) {
      await armedAccount(ledger, account, 'tokens_100', { provider: 'stripe' });
      const a1 = await mustBegin(ledger, account);
      assert.equal(a1.attempt, 1);
      await ledger.autoTopup.remember(a1, `pi_${account}_1`);
      return a1;
    }

    const state = async (account: string) => {
      const [intent] = await ledger.autoTopup.intents(account);
      const view = await ledger.autoTopup.get(account);
      const failed = await eventsOf(ledger, account, ['topup.failed', 'topup.suspended']);
      return {
        intent: [intent?.status, intent?.attempt, intent?.paymentId],
        settings: [view.status, view.lastError],
        events: failed.map((e) => `${e.type}:${'attempt' in e.data ? e.data.attempt : ''}`),
      };
    };

    for (const named of [true, false]) {
      const how = named ? 'naming attempt 1' : 'made before attempts were named';
      it(`attempt 1’s late decline webhook (${how}) leaves attempt 2 charging, counted once`, async () => {
        const a1 = await firstAttempt('late');
        await ledger.autoTopup.failed(a1, 'pi_late_1', 'insufficient_funds');
        const a2 = await mustBegin(ledger, 'late'); // its PaymentIntent not created yet
        assert.equal(a2.attempt, 2);

        const outcome = await applyEvent(ledger, declineWebhook(a1, 'pi_late_1', named));
        assert.equal(outcome.status, 'applied'); // recorded; it changed nothing

        assert.deepEqual(await state('late'), {
          intent: ['charging', 2, null],
          settings: ['active', 'insufficient_funds'],
          events: ['topup.failed:1'],
        });
        // The worker goes on with attempt 2; its own decline is the second failure, not the third.
        await ledger.autoTopup.remember(a2, 'pi_late_2');
        await ledger.autoTopup.failed(a2, 'pi_late_2', 'insufficient_funds');
        assert.deepEqual(await state('late'), {
          intent: ['pending', 2, 'pi_late_2'],
          settings: ['active', 'insufficient_funds'],
          events: ['topup.failed:1', 'topup.failed:2'],
        });
      });
    }

    for (const named of [true, false]) {
      it(`the webhook of the attempt under way (${named ? 'named' : 'not named'}) before the worker’s answer counts once`, async () => {
        const a1 = await firstAttempt('first');
        await applyEvent(ledger, declineWebhook(a1, 'pi_first_1', named));
        await ledger.autoTopup.failed(a1, 'pi_first_1', 'insufficient_funds');
        assert.deepEqual(await state('first'), {
          intent: ['pending', 1, 'pi_first_1'],
          settings: ['active', 'insufficient_funds'],
          events: ['topup.failed:1'],
        });
      });
    }

    it('a decline naming the attempt under way but another PaymentIntent than the one stored changes nothing', async () => {
      const a1 = await firstAttempt('other');
      await applyEvent(ledger, declineWebhook(a1, 'pi_someone_else'));
      assert.deepEqual(await state('other'), {
        intent: ['charging', 1, 'pi_other_1'],
        settings: ['active', null],
        events: [],
      });
    });

    it('property: in any order of the webhooks, each attempt’s decline counts once and never touches the next', async () => {
      type Step =
        | { kind: 'begin'; attempt: number }
        | { kind: 'remember'; attempt: number }
        | { kind: 'fail'; attempt: number }
        | { kind: 'webhook'; attempt: number; named: boolean };
      const delivery = fc.record({ attempt: fc.integer({ min: 1, max: 3 }), named: fc.boolean(), at: fc.nat() });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.array(delivery, { maxLength: 8 }),
          async (declines, deliveries) => {
            // The worker's own steps, in order; each webhook of attempt n goes anywhere after its
            // PaymentIntent exists (remembered before it is confirmed), repeats included.
            const steps: Step[] = [];
            for (let n = 1; n <= declines; n++) {
              steps.push({ kind: 'begin', attempt: n }, { kind: 'remember', attempt: n }, { kind: 'fail', attempt: n });
            }
            for (const d of deliveries.filter((d) => d.attempt <= declines)) {
              const after = steps.findIndex((s) => s.kind === 'remember' && s.attempt === d.attempt) + 1;
              steps.splice(after + (d.at % (steps.length - after + 1)), 0, { kind: 'webhook', ...d });
            }
            const account = `prop-${++run}`;
            await armedAccount(ledger, account, 'tokens_100', { provider: 'stripe' });
            const attempts = new Map<number, TopupAttempt>();
            const pi = (n: number) => `pi_${account}_${n}`;
            for (const step of steps) {
              const a = attempts.get(step.attempt);
              if (step.kind === 'begin') {
                const begun = await mustBegin(ledger, account);
                assert.equal(begun.attempt, step.attempt);
                attempts.set(step.attempt, begun);
              } else if (!a) {
                assert.fail(`attempt ${step.attempt} never began`);
              } else if (step.kind === 'remember') {
                await ledger.autoTopup.remember(a, pi(a.attempt));
              } else if (step.kind === 'fail') {
                await ledger.autoTopup.failed(a, pi(a.attempt), 'insufficient_funds');
                // Attempt n's decline is counted by now (by the worker or a webhook), and nothing else.
                const counted = await eventsOf(ledger, account, ['topup.failed']);
                assert.deepEqual(
                  counted.map((e) => ('attempt' in e.data ? e.data.attempt : null)),
                  Array.from({ length: step.attempt }, (_, i) => i + 1),
                );
              } else {
                await applyEvent(ledger, declineWebhook(a, pi(a.attempt), step.named));
              }
            }
            const suspended = declines === 3;
            assert.deepEqual(await state(account), {
              intent: [suspended ? 'failed' : 'pending', declines, pi(declines)],
              settings: [suspended ? 'suspended' : 'active', 'insufficient_funds'],
              events: [
                ...Array.from({ length: declines }, (_, i) => `topup.failed:${i + 1}`),
                ...(suspended ? ['topup.suspended:'] : []),
              ],
            });
          },
        ),
        { numRuns: runsOn[backend.name] ?? 0 },
      );
    });
  });
}
