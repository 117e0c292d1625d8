import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeductionLine } from '../../src/core/deduction-line.ts';

const MSG = '[TOKENS] Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99';

const parsed = (record: Record<string, unknown>) => parseDeductionLine(JSON.stringify({ level: 30, ...record }));

// A line without a time is counted whatever the recovery window, after the import too, where
// tokenmeter has already charged it; so a time that is there but cannot be read must make the
// line unreadable (reported), as it does for a plain line, and never make it untimed.
describe('parseDeductionLine: a JSON record whose time cannot be read is unreadable (regression)', () => {
  for (const [name, time] of [
    ['an RFC 1123 date (Date#toUTCString)', 'Thu, 01 Jan 2099 00:00:00 GMT'],
    ['an impossible date with an offset', '2025-02-30T10:00:00+01:00'],
    ['an empty text', ''],
    ['null', null],
    ['a boolean', true],
    ['an object', { seconds: 1 }],
  ] as const) {
    for (const field of ['time', 'timestamp', '@timestamp']) {
      it(`${field}: ${name}`, () => {
        const line = parsed({ [field]: time, msg: MSG });
        assert.equal(line.kind, 'unreadable', JSON.stringify(line));
        if (line.kind === 'unreadable') {
          assert.equal(line.reason, `invalid timestamp (${field}: ${JSON.stringify(time)})`);
        }
      });
    }
  }

  it('like a plain line with a bad timestamp', () => {
    assert.equal(parseDeductionLine(`2099-02-30T00:00:00Z ${MSG}`).kind, 'unreadable');
  });
});

describe('parseDeductionLine: JSON records that are read', () => {
  const at = (line: ReturnType<typeof parsed>) => (line.kind === 'deduction' ? line.deduction.at : line.kind);

  it('epoch milliseconds and ISO-8601 with any zone are the line time', () => {
    assert.equal(at(parsed({ time: 1762336800000, msg: MSG })), 1762336800000);
    assert.equal(
      at(parsed({ timestamp: '2025-11-05T11:00:00+01:00', message: MSG })),
      Date.parse('2025-11-05T10:00:00Z'),
    );
    assert.equal(at(parsed({ '@timestamp': '2025-11-05 10:00:00.5', msg: MSG })), Date.parse('2025-11-05T10:00:00.5Z'));
  });

  it('the first time field present decides; a record with none is a line without a time', () => {
    assert.equal(at(parsed({ time: 'soon', timestamp: '2025-11-05T10:00:00Z', msg: MSG })), 'unreadable');
    assert.equal(at(parsed({ msg: MSG })), null);
    assert.equal(at(parsed({ msg: MSG, hostname: 'web-1' })), null);
  });
});
