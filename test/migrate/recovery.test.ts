import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeductionEvidence } from '../../src/core/deduction-evidence.ts';
import { parseDeductionLine } from '../../src/core/deduction-line.ts';
import { OPENING_KEY, planRecovery, type RecoveryClaim, spendingIn } from '../../src/core/recovery.ts';

const OPEN = { since: null, until: null };

function seedLine(minute: number | null, account = '7', before = 100, after = 99): string {
  const body = `[INFO] [TOKENS] Deducted 1 tokens from user ${account} (outbound_call_single). Balance: ${before} → ${after}`;
  return minute === null ? body : `2025-11-05T10:${String(minute).padStart(2, '0')}:00Z ${body}`;
}

function feed(evidence: DeductionEvidence, lines: readonly string[]): string[] {
  evidence.nextFile();
  return lines.map((text) => {
    const parsed = parseDeductionLine(text);
    if (parsed.kind !== 'deduction') throw new Error(`not a deduction: ${text}`);
    return evidence.add(text, parsed.deduction);
  });
}

function seedClaim(items: RecoveryClaim['items']): RecoveryClaim {
  return {
    account: '7',
    opening: 100,
    openingGiven: false,
    openingAt: null,
    openedWith: 100,
    firstBalance: 100,
    items,
    unrecorded: 'none',
  };
}

const minutes = (n: number, from = 0) => Array.from({ length: n }, (_, i) => seedLine(from + i));

describe('the seed: 58 × "Balance: 100 → 99"', () => {
  it('spends 58, expects 42, corrects −58 against the imported 100, and raises the red flag', () => {
    const evidence = new DeductionEvidence();
    feed(evidence, minutes(58));
    const spending = spendingIn(evidence.linesOf('7'), OPEN);
    assert.equal(spending.spent, 58);
    assert.equal(spending.deductions, 58);
    assert.equal(spending.firstBalance, 100);
    assert.deepEqual(spending.repeats, [{ balanceBefore: 100, balanceAfter: 99, times: 58 }]);
    const plan = planRecovery(
      seedClaim(spending.counted.map((l, i) => ({ key: `k${i}`, tokens: 1, at: l.deduction.at }))),
      [],
    );
    assert.deepEqual([plan.status, plan.expected, plan.correction], ['correction_pending', 42, -58]);
    assert.equal(plan.record.length, 59, '58 lines and the opening');
  });

  it('a correction already applied leaves nothing to correct', () => {
    const items = Array.from({ length: 58 }, (_, i) => ({ key: `k${i}`, tokens: 1, at: i }));
    const first = planRecovery(seedClaim(items), []);
    const recorded = first.record.map((r) => ({ ...r, entryId: 1, recoveredAt: 0 }));
    assert.ok(recorded.some((r) => r.key === OPENING_KEY));
    const again = planRecovery(seedClaim(items), recorded);
    assert.deepEqual([again.status, again.correction, again.expected, again.record], ['already_applied', 0, 42, []]);
  });

  it('healthy logs (99 → 98 → 97) raise no red flag', () => {
    const evidence = new DeductionEvidence();
    feed(evidence, [seedLine(1, '7', 100, 99), seedLine(2, '7', 99, 98), seedLine(3, '7', 98, 97)]);
    const spending = spendingIn(evidence.linesOf('7'), OPEN);
    assert.equal(spending.spent, 3);
    assert.deepEqual(spending.repeats, []);
  });
});

describe('DeductionEvidence: each deduction counts once', () => {
  it('a timestamped line met again, in the same or another file, counts once', () => {
    const evidence = new DeductionEvidence();
    assert.deepEqual(feed(evidence, [seedLine(1), seedLine(2), seedLine(1)]), ['counted', 'counted', 'duplicate']);
    assert.deepEqual(feed(evidence, [seedLine(2), seedLine(3)]), ['duplicate', 'counted']);
    assert.equal(spendingIn(evidence.linesOf('7'), OPEN).deductions, 3);
  });

  it('lines without a timestamp: every one in a file counts; an overlapping file adds only what it has more of', () => {
    const evidence = new DeductionEvidence();
    feed(
      evidence,
      Array.from({ length: 58 }, () => seedLine(null)),
    );
    assert.equal(spendingIn(evidence.linesOf('7'), OPEN).spent, 58);
    feed(
      evidence,
      Array.from({ length: 30 }, () => seedLine(null)),
    );
    assert.equal(spendingIn(evidence.linesOf('7'), OPEN).spent, 58, 'a 30-line overlap adds nothing');
    feed(
      evidence,
      Array.from({ length: 60 }, () => seedLine(null)),
    );
    assert.equal(spendingIn(evidence.linesOf('7'), OPEN).spent, 60, 'a fuller copy raises it to its count');
    const spending = spendingIn(evidence.linesOf('7'), OPEN);
    assert.equal(spending.untimed, 60);
  });

  it('keeps other accounts apart and, with a filter, holds only the one asked for', () => {
    const all = new DeductionEvidence();
    feed(all, [seedLine(1, '7'), seedLine(1, '10'), seedLine(2, '2')]);
    assert.deepEqual(all.accounts(), ['2', '7', '10']);
    const one = new DeductionEvidence('7');
    assert.deepEqual(feed(one, [seedLine(1, '7'), seedLine(1, '8')]), ['counted', 'filtered']);
    assert.deepEqual(one.accounts(), ['7']);
  });
});

describe('spendingIn: the window', () => {
  it('counts [since, until) by the line time; untimed lines are counted and said to be', () => {
    const evidence = new DeductionEvidence();
    feed(evidence, [...minutes(10), seedLine(null)]);
    const since = Date.parse('2025-11-05T10:02:00Z');
    const until = Date.parse('2025-11-05T10:05:00Z');
    const spending = spendingIn(evidence.linesOf('7'), { since, until });
    assert.equal(spending.deductions, 4, 'minutes 2, 3, 4 and the untimed line');
    assert.equal(spending.untimed, 1);
    assert.equal(spending.outsideWindow, 7);
  });

  it('orders the counted lines by time, whatever order the files came in', () => {
    const evidence = new DeductionEvidence();
    feed(evidence, [seedLine(5, '7', 97, 96), seedLine(1, '7', 100, 99)]);
    const spending = spendingIn(evidence.linesOf('7'), OPEN);
    assert.equal(spending.firstBalance, 100);
    assert.deepEqual(
      spending.counted.map((l) => l.deduction.balanceBefore),
      [100, 97],
    );
  });
});
