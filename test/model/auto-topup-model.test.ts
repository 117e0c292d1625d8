// Automatic top-up against a small independent model (it imports nothing from src/): random
// deductions, holds, corrections, settings changes, new cards and worker steps whose charges
// succeed or are declined. After every step the intents the database recorded (how many, and
// each one's fate), the settings' status and the balance must be what the rules allow: an intent
// only at a crossing from at or above the threshold to below it while none is open, never two
// open, never more successful top-ups in a month than the limit, suspension at the third decline
// in a row or at once on `authentication_required`, and a decision against the state at charge time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { saveCard } from '../helpers/saved-card.ts';

const THRESHOLD = 50;
const PACKAGE_TOKENS = 100;
const LIMIT = 2;
const ops = { reason: 'model', actor: 'ops' };

type Op =
  | { kind: 'deduct'; quantity: number }
  | { kind: 'adjust'; amount: number }
  | { kind: 'reserve'; amount: number }
  | { kind: 'release' }
  | { kind: 'enable'; threshold: number }
  | { kind: 'disable' }
  | { kind: 'card' }
  | { kind: 'work'; outcome: 'succeeded' | 'card_declined' | 'authentication_required' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('deduct' as const), quantity: fc.integer({ min: 1, max: 40 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('adjust' as const), amount: fc.integer({ min: -40, max: 60 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 1, max: 30 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'release' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('enable' as const), threshold: fc.constantFrom(30, THRESHOLD, 80) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'disable' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'card' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('work' as const),
      outcome: fc.constantFrom(
        'succeeded' as const,
        'succeeded' as const,
        'card_declined' as const,
        'card_declined' as const,
        'card_declined' as const,
        'authentication_required' as const,
      ),
    }),
  },
);

type Fate = 'pending' | 'succeeded' | 'failed' | 'cancelled' | 'limited';

/** What the rules say, kept apart from the engine. */
class Model {
  available = 100;
  balance = 100;
  holds: number[] = [];
  enabled = false;
  suspended = false;
  threshold = THRESHOLD;
  failures = 0;
  used = 0;
  intents: Fate[] = [];

  get open(): boolean {
    return this.intents.at(-1) === 'pending';
  }
  get armed(): boolean {
    return this.enabled && !this.suspended;
  }

  /** A write moved available: an intent if it crossed the armed threshold downward and none is open. */
  moved(before: number): void {
    if (this.armed && before >= this.threshold && this.available < this.threshold && !this.open)
      this.intents.push('pending');
  }
  /** Settings or a card made it active again: an intent at once if already below and none is open. */
  armedNow(wasActive: boolean, thresholdChanged: boolean): void {
    if (this.armed && (!wasActive || thresholdChanged) && this.available < this.threshold && !this.open) {
      this.intents.push('pending');
    }
  }
  settle(fate: Fate): void {
    this.intents[this.intents.length - 1] = fate;
  }
}

async function step(ledger: TokenLedger, m: Model, op: Op, account: string): Promise<void> {
  const before = m.available;
  switch (op.kind) {
    case 'deduct': {
      const r = await ledger.deduct({ account, feature: 'social_post', quantity: op.quantity });
      if (op.quantity <= m.available) {
        assert.ok(r.ok);
        m.available -= op.quantity;
        m.balance -= op.quantity;
        m.moved(before);
      } else assert.equal(r.ok, false);
      return;
    }
    case 'adjust':
      if (op.amount === 0) return;
      await ledger.adjust({ account, amount: op.amount, ...ops });
      m.available += op.amount;
      m.balance += op.amount;
      m.moved(before);
      return;
    case 'reserve': {
      const r = await ledger.reserve({ account, amount: op.amount });
      if (op.amount <= m.available && r.ok) {
        m.holds.push(r.holdId);
        m.available -= op.amount;
        m.moved(before);
      } else assert.equal(r.ok, false);
      return;
    }
    case 'release': {
      const id = m.holds.pop();
      if (id === undefined) return;
      const r = await ledger.releaseHold(id);
      assert.ok(r.ok);
      m.available += r.reserved;
      return;
    }
    case 'enable': {
      const r = await ledger.autoTopup
        .put({ account, enabled: true, threshold: op.threshold, packageId: 'tokens_100', monthlyLimit: LIMIT })
        .then(
          () => true,
          () => false,
        );
      assert.equal(r, true, 'a card is saved before the run');
      const wasActive = m.armed;
      const changed = m.threshold !== op.threshold;
      m.enabled = true;
      if (!wasActive) m.failures = 0;
      m.suspended = false;
      m.threshold = op.threshold;
      m.armedNow(wasActive, changed);
      return;
    }
    case 'disable':
      await ledger.autoTopup.put({
        account,
        enabled: false,
        threshold: m.threshold,
        packageId: 'tokens_100',
        monthlyLimit: LIMIT,
      });
      m.enabled = false;
      m.suspended = false;
      m.failures = 0;
      return;
    case 'card': {
      await saveCard(ledger, account);
      if (m.enabled && m.suspended) {
        m.suspended = false;
        m.failures = 0;
        m.armedNow(false, false);
      }
      return;
    }
    case 'work': {
      const [claimed] = await ledger.autoTopup.claimDue(1, 60_000);
      assert.equal(claimed !== undefined, m.open, 'an intent is due exactly when one is open');
      if (!claimed) return;
      const attempt = await ledger.autoTopup.begin(claimed);
      // Decided against the state now, not the state at the crossing.
      if (!m.armed || m.available >= m.threshold) {
        assert.equal(attempt, null);
        m.settle('cancelled');
        return;
      }
      if (m.used >= LIMIT) {
        assert.equal(attempt, null);
        m.settle('limited');
        return;
      }
      assert.ok(attempt, 'an attempt is made');
      const paymentId = `pi_${claimed.id}_${attempt.attempt}`;
      await ledger.autoTopup.remember(attempt, paymentId);
      if (op.outcome === 'succeeded') {
        await ledger.autoTopup.succeeded(attempt, paymentId, 500, 'usd');
        m.settle('succeeded');
        m.used += 1;
        m.failures = 0;
        m.available += PACKAGE_TOKENS;
        m.balance += PACKAGE_TOKENS;
        return;
      }
      await ledger.autoTopup.failed(attempt, paymentId, op.outcome);
      m.failures += 1;
      if (op.outcome === 'authentication_required' || m.failures >= 3) {
        m.suspended = true;
        m.settle('failed');
      }
      return;
    }
  }
}

describe('automatic top-up against a model (fast-check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-topup-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let run = 0;

  it('records, decides and settles intents exactly as the rules allow over random sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 50, size: 'medium' }), async (sequence) => {
        const store = new SqliteStore({ path: join(dir, `run-${run++}.db`), synchronous: 'NORMAL' });
        await store.migrate();
        // Retries at once, so a declined intent is due again at the next worker step.
        const { ledger } = ledgerOn(store, undefined, false, { topupRetryMs: 0 });
        const account = 'm';
        try {
          await ledger.createAccount({ account });
          await saveCard(ledger, account);
          const m = new Model();
          // Most runs start armed: the interesting part is what happens after crossings.
          if (sequence.length % 4 !== 0) await step(ledger, m, { kind: 'enable', threshold: THRESHOLD }, account);
          for (const op of sequence) {
            await step(ledger, m, op, account);
            const intents = (await ledger.autoTopup.intents(account)).reverse();
            assert.deepEqual(
              intents.map((i) => (i.status === 'charging' ? 'pending' : i.status)),
              m.intents,
              `intents after ${JSON.stringify(op)}`,
            );
            const view = await ledger.autoTopup.get(account);
            const status = !m.enabled ? 'off' : m.suspended ? 'suspended' : 'active';
            assert.deepEqual(
              [view.status, view.usedThisMonth],
              [status, m.used],
              `settings after ${JSON.stringify(op)}`,
            );
            const balance = await ledger.getBalance(account);
            assert.deepEqual([balance.balance, balance.available], [m.balance, m.available]);
          }
          assert.deepEqual((await ledger.reconcile()).drift, []);
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 100 },
    );
  });
});
