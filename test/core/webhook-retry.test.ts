import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_RETRY_DELAY_MS, nextAttemptAt, nominalRetryDelayMs } from '../../src/core/webhook-retry.ts';

const THREE_DAYS_MS = 3 * 24 * 3_600_000;
const YEAR_MS = 365 * 24 * 3_600_000;

const input = fc.record({
  attempts: fc.integer({ min: 1, max: 200 }),
  createdAt: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  elapsed: fc.integer({ min: 0, max: 2 * THREE_DAYS_MS }),
  baseMs: fc.integer({ min: 1, max: 600_000 }),
  maxAgeMs: fc.integer({ min: 0, max: 2 * THREE_DAYS_MS }),
  random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

describe('nominalRetryDelayMs', () => {
  it('starts at the base, doubles per try and stops at one hour', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 11, 12, 1000].map((n) => nominalRetryDelayMs(n, 5_000)),
      [5_000, 10_000, 20_000, 40_000, 2_560_000, MAX_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS],
    );
    assert.equal(MAX_RETRY_DELAY_MS, 3_600_000);
  });

  it('each nominal delay is the previous one doubled, capped at one hour', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 10_000_000 }), (attempts, baseMs) => {
        const first = nominalRetryDelayMs(1, baseMs);
        const current = nominalRetryDelayMs(attempts, baseMs);
        const next = nominalRetryDelayMs(attempts + 1, baseMs);
        assert.equal(first, Math.min(baseMs, MAX_RETRY_DELAY_MS));
        assert.equal(next, Math.min(2 * current, MAX_RETRY_DELAY_MS));
        assert.ok(current <= MAX_RETRY_DELAY_MS);
        assert.ok(Number.isSafeInteger(current) && current >= 1);
      }),
    );
  });

  it('refuses inputs that would make no sense (a bug in the caller)', () => {
    assert.throws(() => nominalRetryDelayMs(0, 5_000), RangeError);
    assert.throws(() => nominalRetryDelayMs(1, 0), RangeError);
    assert.throws(() => nominalRetryDelayMs(1.5, 5_000), RangeError);
    assert.throws(() => nominalRetryDelayMs(1, Number.NaN), RangeError);
  });
});

describe('nextAttemptAt', () => {
  it('the issue’s defaults: the first retry 2.5–5 s after the failure, later ones 30–60 min', () => {
    const t = Date.UTC(2026, 0, 1);
    const base = { createdAt: t, now: t + 100, baseMs: 5_000, maxAgeMs: THREE_DAYS_MS };
    assert.equal(nextAttemptAt({ ...base, attempts: 1, random: 0 }), t + 100 + 2_500);
    assert.equal(nextAttemptAt({ ...base, attempts: 1, random: 0.5 }), t + 100 + 3_750);
    assert.equal(nextAttemptAt({ ...base, attempts: 1, random: 0.999_999_999 }), t + 100 + 5_000);
    assert.equal(nextAttemptAt({ ...base, attempts: 20, random: 0 }), t + 100 + 1_800_000);
  });

  it('gives up when the next try would fall past createdAt + maxAge', () => {
    const t = 1_000_000;
    const base = { attempts: 1, createdAt: t, baseMs: 5_000, maxAgeMs: 60_000, random: 0 };
    assert.equal(nextAttemptAt({ ...base, now: t + 57_500 }), t + 60_000);
    assert.equal(nextAttemptAt({ ...base, now: t + 57_501 }), null);
  });

  it('each wait lies in the jitter band [ceil(nominal/2), nominal] of its nominal delay', () => {
    fc.assert(
      fc.property(input, ({ elapsed, ...rest }) => {
        const now = rest.createdAt + elapsed;
        const next = nextAttemptAt({ ...rest, now, maxAgeMs: YEAR_MS });
        const nominal = nominalRetryDelayMs(rest.attempts, rest.baseMs);
        assert.notEqual(next, null);
        const delay = (next ?? 0) - now;
        assert.ok(delay >= Math.ceil(nominal / 2) && delay <= nominal, `delay ${delay}, nominal ${nominal}`);
      }),
    );
  });

  it('never returns a time past createdAt + maxAge, and always one later than now', () => {
    fc.assert(
      fc.property(input, ({ elapsed, ...rest }) => {
        const now = rest.createdAt + elapsed;
        const next = nextAttemptAt({ ...rest, now });
        if (next === null) return;
        assert.ok(next > now);
        assert.ok(next <= rest.createdAt + rest.maxAgeMs);
      }),
    );
  });

  it('gives up only when it must: it retries whenever the whole nominal wait still fits', () => {
    fc.assert(
      fc.property(input, ({ elapsed, ...rest }) => {
        const now = rest.createdAt + elapsed;
        const deadline = rest.createdAt + rest.maxAgeMs;
        const nominal = nominalRetryDelayMs(rest.attempts, rest.baseMs);
        const next = nextAttemptAt({ ...rest, now });
        if (now + nominal <= deadline) assert.notEqual(next, null);
        if (now + Math.ceil(nominal / 2) > deadline) assert.equal(next, null);
      }),
    );
  });

  it('a later random never gives an earlier retry (the jitter is monotone in it)', () => {
    fc.assert(
      fc.property(input, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), ({ elapsed, ...rest }, r2) => {
        const now = rest.createdAt + elapsed;
        const [lo, hi] = rest.random <= r2 ? [rest.random, r2] : [r2, rest.random];
        const a = nextAttemptAt({ ...rest, now, maxAgeMs: YEAR_MS, random: lo });
        const b = nextAttemptAt({ ...rest, now, maxAgeMs: YEAR_MS, random: hi });
        assert.ok((a ?? 0) <= (b ?? 0));
      }),
    );
  });

  it('with the defaults a delivery that always fails is retried for three days, then given up', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 200, maxLength: 200 }),
        (randoms) => {
          const createdAt = 0;
          let now = createdAt;
          let attempts = 1;
          for (const random of randoms) {
            const next = nextAttemptAt({ attempts, createdAt, now, baseMs: 5_000, maxAgeMs: THREE_DAYS_MS, random });
            if (next === null) break;
            now = next;
            attempts += 1;
          }
          // The last try starts within the window, and less than an hour before its end (else one more would fit).
          assert.ok(now <= THREE_DAYS_MS && now > THREE_DAYS_MS - MAX_RETRY_DELAY_MS, `last try at ${now}`);
          assert.ok(attempts > 70 && attempts < 160, `${attempts} tries`);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses a random outside [0, 1)', () => {
    const base = { attempts: 1, createdAt: 0, now: 0, baseMs: 5_000, maxAgeMs: THREE_DAYS_MS };
    assert.throws(() => nextAttemptAt({ ...base, random: 1 }), RangeError);
    assert.throws(() => nextAttemptAt({ ...base, random: -0.1 }), RangeError);
    assert.throws(() => nextAttemptAt({ ...base, random: Number.NaN }), RangeError);
  });
});
