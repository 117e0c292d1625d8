import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  aboutCurrentAttempt,
  chargeOfPackage,
  packageOfCharge,
  paidAsCharged,
  type TopupCharge,
} from '../../src/core/topup-charge.ts';
import { catalog } from '../helpers/ledger.ts';

const tokens100 = catalog.packages.get('tokens_100') ?? assert.fail('no tokens_100');
const charge: TopupCharge = { packageId: 'tokens_100', tokens: 100, amount: 500, currency: 'usd' };

const attemptArb = fc.integer({ min: 1, max: 6 });
const paymentArb = fc.option(fc.constantFrom('pi_a', 'pi_b', 'pi_c'), { nil: null });

describe('an automatic top-up attempt’s charge (core rules)', () => {
  it('is the package at its price now, currency in lower case', () => {
    assert.deepEqual(chargeOfPackage({ ...tokens100, currency: 'USD' }), charge);
  });

  it('a provider is asked for the charge fixed at the start, whatever the config says now', () => {
    const repriced = { ...tokens100, tokens: 150, priceCents: 700 };
    assert.deepEqual(packageOfCharge(charge, repriced), {
      ...tokens100,
      tokens: 100,
      priceCents: 500,
      currency: 'usd',
    });
    assert.deepEqual(packageOfCharge(charge, undefined), {
      id: 'tokens_100',
      name: 'tokens_100',
      kind: 'topup',
      plan: null,
      tokens: 100,
      priceCents: 500,
      currency: 'usd',
    });
  });

  it('a payment bought it only at exactly its package, amount and currency (any letter case)', () => {
    assert.equal(paidAsCharged(charge, { packageId: 'tokens_100', amount: 500, currency: 'USD' }), true);
    assert.equal(paidAsCharged(charge, { packageId: 'tokens_2000', amount: 500, currency: 'usd' }), false);
    assert.equal(paidAsCharged(charge, { packageId: 'tokens_100', amount: 499, currency: 'usd' }), false);
    assert.equal(paidAsCharged(charge, { packageId: 'tokens_100', amount: 500, currency: 'eur' }), false);
    fc.assert(
      fc.property(fc.string(), fc.integer(), fc.string(), (packageId, amount, currency) => {
        const bought = paidAsCharged(charge, { packageId, amount, currency });
        assert.equal(bought, packageId === 'tokens_100' && amount === 500 && currency.toLowerCase() === 'usd');
      }),
    );
  });

  describe('which attempt a report is about (property)', () => {
    it('a report naming attempt N is never about another attempt', () => {
      fc.assert(
        fc.property(attemptArb, attemptArb, paymentArb, paymentArb, (current, named, stored, reported) => {
          const about = aboutCurrentAttempt(
            { attempt: current, paymentId: stored },
            { attempt: named, paymentId: reported },
          );
          if (named !== current) assert.equal(about, false);
          else assert.equal(about, reported === null || stored === null || reported === stored);
        }),
      );
    });

    it('a report naming no attempt is about the current one only when it is the payment stored for it', () => {
      fc.assert(
        fc.property(attemptArb, paymentArb, paymentArb, (current, stored, reported) => {
          const about = aboutCurrentAttempt(
            { attempt: current, paymentId: stored },
            { attempt: null, paymentId: reported },
          );
          assert.equal(about, reported !== null && reported === stored);
        }),
      );
    });

    it('the next attempt, with no payment stored yet, is never the subject of a report about the one before', () => {
      fc.assert(
        fc.property(attemptArb, paymentArb, fc.boolean(), (n, payment, named) => {
          const next = { attempt: n + 1, paymentId: null };
          assert.equal(aboutCurrentAttempt(next, { attempt: named ? n : null, paymentId: payment }), false);
        }),
      );
    });
  });
});
