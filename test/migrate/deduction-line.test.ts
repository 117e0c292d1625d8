import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeductionLine } from '../../src/core/deduction-line.ts';
import { parseIsoTime } from '../../src/core/log-time.ts';

const SEED = '[INFO] [TOKENS] Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99';

function deduction(line: string) {
  const parsed = parseDeductionLine(line);
  assert.equal(parsed.kind, 'deduction', `${line}: ${JSON.stringify(parsed)}`);
  if (parsed.kind !== 'deduction') throw new Error('unreachable');
  return parsed.deduction;
}

describe('parseDeductionLine: the seed format', () => {
  it('reads the seed line exactly as the incident report shows it (no timestamp)', () => {
    assert.deepEqual(deduction(SEED), {
      account: '7',
      tokens: 1,
      feature: 'outbound_call_single',
      balanceBefore: 100,
      balanceAfter: 99,
      at: null,
    });
  });

  it('accepts -> as the arrow, and no log level or [TOKENS] tag', () => {
    const d = deduction('Deducted 5 tokens from user abc-42 (business_collector). Balance: 20 -> 15');
    assert.equal(d.account, 'abc-42');
    assert.equal(d.tokens, 5);
    assert.equal(d.balanceBefore, 20);
    assert.equal(d.balanceAfter, 15);
  });

  it('reads negative balances (the seed app never stopped at zero)', () => {
    const d = deduction('[TOKENS] Deducted 2 tokens from user 9 (crm_ai_agent). Balance: 1 → -1');
    assert.equal(d.balanceAfter, -1);
  });

  it('takes a leading ISO timestamp (with Z, offset, brackets, space, microseconds) as the line time', () => {
    const at = Date.parse('2025-11-05T10:00:00.123Z');
    assert.equal(deduction(`2025-11-05T10:00:00.123Z ${SEED}`).at, at);
    assert.equal(deduction(`[2025-11-05T10:00:00.123456Z] ${SEED}`).at, at);
    assert.equal(deduction(`2025-11-05 10:00:00.123 ${SEED}`).at, at);
    assert.equal(deduction(`2025-11-05T11:00:00.123+01:00 app[web.1]: ${SEED}`).at, at);
  });

  it('ignores a prefix that is not a timestamp', () => {
    assert.equal(deduction(`web.1 | ${SEED}`).at, null);
  });

  it('reads a JSON log record from its msg and time', () => {
    const line = JSON.stringify({ level: 30, time: 1762336800000, msg: SEED.replace('[INFO] ', '') });
    const d = deduction(line);
    assert.equal(d.at, 1762336800000);
    assert.equal(d.account, '7');
    const iso = JSON.stringify({ timestamp: '2025-11-05T10:00:00Z', message: SEED });
    assert.equal(deduction(iso).at, Date.parse('2025-11-05T10:00:00Z'));
  });
});

describe('parseDeductionLine: lines it cannot read are reported, the rest ignored', () => {
  it('other log lines are "other"', () => {
    assert.equal(parseDeductionLine('⚠️ User 7 had NULL token balance, set to 100').kind, 'other');
    assert.equal(parseDeductionLine('').kind, 'other');
  });

  for (const [name, line] of [
    ['a non-integer count', '[TOKENS] Deducted 1.5 tokens from user 7 (x). Balance: 100 → 98.5'],
    ['a word for a count', '[TOKENS] Deducted x tokens from user 7 (x). Balance: 100 → 99'],
    ['no balance', '[TOKENS] Deducted 1 tokens from user 7 (outbound_call_single).'],
    ['a truncated line', '[TOKENS] Deducted 1 tokens from user 7 (outbound_call_sin'],
    ['a bad date', '2025-13-45T10:00:00Z [TOKENS] Deducted 1 tokens from user 7 (x). Balance: 100 → 99'],
  ] as const) {
    it(`a deduction line with ${name} is unreadable, with a reason`, () => {
      const parsed = parseDeductionLine(line);
      assert.equal(parsed.kind, 'unreadable');
      if (parsed.kind === 'unreadable') assert.ok(parsed.reason.length > 0);
    });
  }
});

describe('parseIsoTime', () => {
  it('reads UTC, offsets and dates; a time without a zone is UTC', () => {
    assert.equal(parseIsoTime('2025-11-05'), Date.parse('2025-11-05T00:00:00Z'));
    assert.equal(parseIsoTime('2025-11-05T10:00'), Date.parse('2025-11-05T10:00:00Z'));
    assert.equal(parseIsoTime('2025-11-05T10:00:00+0200'), Date.parse('2025-11-05T08:00:00Z'));
    assert.equal(parseIsoTime('2025-11-05t10:00:00z'), null);
  });

  it('refuses what is not a time, and impossible dates', () => {
    assert.equal(parseIsoTime('yesterday'), null);
    assert.equal(parseIsoTime('2025-02-30T00:00:00Z'), null);
    assert.equal(parseIsoTime('2025-11-05T10:00:00Z trailing'), null);
  });
});
