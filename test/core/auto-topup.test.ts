import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type AutoTopupSettings,
  attemptKey,
  decideIntent,
  monthName,
  monthStart,
  settingsAfterFailure,
  settingsAfterNewCard,
  settingsAfterRequest,
  settingsAfterSuccess,
  validateTopupRequest,
} from '../../src/core/auto-topup.ts';

const active: AutoTopupSettings = {
  account: 'a',
  enabled: true,
  threshold: 50,
  packageId: 'tokens_100',
  monthlyLimit: 3,
  status: 'active',
  failures: 0,
  lastError: null,
  updatedAt: 0,
};

type Step =
  | { kind: 'decline'; reason: 'card_declined' | 'insufficient_funds' | 'authentication_required' }
  | { kind: 'success' }
  | { kind: 'card' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('decline' as const),
    reason: fc.constantFrom(
      'card_declined' as const,
      'insufficient_funds' as const,
      'authentication_required' as const,
    ),
  }),
  fc.constant({ kind: 'success' as const }),
  fc.constant({ kind: 'card' as const }),
);

describe('automatic top-up rules (core)', () => {
  it('suspended exactly after an authentication_required or the third decline in a row since the last success or new card', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
        let s = active;
        let streak = 0;
        let stopped = false;
        for (const step of steps) {
          if (step.kind === 'decline') {
            s = settingsAfterFailure(s, step.reason, 1);
            if (!stopped) {
              streak += 1;
              if (step.reason === 'authentication_required' || streak >= 3) stopped = true;
            }
          } else if (step.kind === 'success') {
            s = settingsAfterSuccess(s, 1);
            if (!stopped) streak = 0;
          } else {
            s = settingsAfterNewCard(s, 1);
            if (stopped) {
              stopped = false;
              streak = 0;
            }
          }
          assert.equal(s.status, stopped ? 'suspended' : 'active');
          assert.equal(s.enabled, true);
        }
      }),
    );
  });

  it('enabling from off or suspended starts afresh; re-saving an active one keeps its failures', () => {
    const request = { account: 'a', enabled: true, threshold: 40, packageId: 'tokens_100', monthlyLimit: 2 };
    const suspended = { ...active, status: 'suspended' as const, failures: 3, lastError: 'card_declined' };
    assert.deepEqual(
      [settingsAfterRequest(suspended, request, 5).status, settingsAfterRequest(suspended, request, 5).failures],
      ['active', 0],
    );
    const declined = { ...active, failures: 2, lastError: 'card_declined' };
    assert.equal(settingsAfterRequest(declined, request, 5).failures, 2);
    assert.equal(settingsAfterRequest(declined, { ...request, enabled: false }, 5).status, 'off');
  });

  it('refuses a negative or fractional threshold and a limit outside 1..100, naming the field', () => {
    const base = { account: 'a', enabled: true, threshold: 1, packageId: 'p', monthlyLimit: 1 };
    for (const [bad, field] of [
      [{ threshold: -1 }, 'threshold'],
      [{ threshold: 1.5 }, 'threshold'],
      [{ monthlyLimit: 0 }, 'monthly_limit'],
      [{ monthlyLimit: 101 }, 'monthly_limit'],
    ] as const) {
      assert.throws(() => validateTopupRequest({ ...base, ...bad }), { field });
    }
  });

  it('an attempt under way is always finished; otherwise off, suspended, recovered and no card cancel, and the cap limits', () => {
    const input = { settings: active, available: 10, succeededThisMonth: 0, hasMethod: true, inFlight: false };
    assert.deepEqual(decideIntent(input), { kind: 'charge' });
    assert.deepEqual(
      decideIntent({ ...input, settings: { ...active, enabled: false, status: 'off' }, inFlight: true }),
      {
        kind: 'charge',
      },
    );
    assert.equal(decideIntent({ ...input, available: 50 }).kind, 'cancel');
    assert.equal(decideIntent({ ...input, hasMethod: false }).kind, 'cancel');
    assert.equal(decideIntent({ ...input, settings: { ...active, status: 'suspended' } }).kind, 'cancel');
    assert.deepEqual(decideIntent({ ...input, succeededThisMonth: 3 }), { kind: 'limit' });
  });

  it('keys differ between intents, attempts and databases (an intent numbered again after a fresh start)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 0, max: 4e12 }),
        (id, t1, t2) => {
          fc.pre(t1 !== t2);
          assert.notEqual(attemptKey({ id, createdAt: t1 }, 1), attemptKey({ id, createdAt: t2 }, 1));
          assert.notEqual(attemptKey({ id, createdAt: t1 }, 1), attemptKey({ id, createdAt: t1 }, 2));
        },
      ),
    );
  });

  it('months are calendar months in UTC', () => {
    const t = Date.UTC(2026, 10, 30, 23, 59, 59);
    assert.equal(monthStart(t), Date.UTC(2026, 10, 1));
    assert.equal(monthName(t), '2026-11');
    assert.equal(monthStart(t + 1000), Date.UTC(2026, 11, 1));
  });
});
