import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDeductionLine } from '../../src/core/deduction-line.ts';
import { parseIsoTime } from '../../src/core/log-time.ts';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The instant a calendar time names, or null when it names none. The oracle is Date's own
 * calendar: a real date and time of day survive a round trip through it unchanged.
 */
function oracle(t: Parts): number | null {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, t.ms);
  const real =
    d.getUTCFullYear() === t.year &&
    d.getUTCMonth() === t.month - 1 &&
    d.getUTCDate() === t.day &&
    d.getUTCHours() === t.hour &&
    d.getUTCMinutes() === t.minute &&
    d.getUTCSeconds() === t.second;
  if (!real || t.zone.hours > 23 || t.zone.minutes > 59) return null;
  return d.getTime() - t.zone.sign * (t.zone.hours * 60 + t.zone.minutes) * 60_000;
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  zone: { sign: 1 | -1; hours: number; minutes: number };
}

// Near-valid values on purpose: day 0 to 32, hour 0 to 25, minute and second 0 to 61, offsets to 25:61.
const partsArb = fc.record({
  year: fc.oneof(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 0, max: 9999 })),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 61 }),
  second: fc.integer({ min: 0, max: 61 }),
  ms: fc.integer({ min: 0, max: 999 }),
  zone: fc.record({
    sign: fc.constantFrom(1 as const, -1 as const),
    hours: fc.integer({ min: 0, max: 25 }),
    minutes: fc.integer({ min: 0, max: 61 }),
  }),
});

/** Every zone format the logs write: none (UTC), Z, z, ±HH, ±HHMM, ±HH:MM, after an optional space. */
const formatArb = fc.record({
  zone: fc.constantFrom('none', 'Z', 'z', '±HH', '±HHMM', '±HH:MM'),
  separator: fc.constantFrom('T', ' '),
  spaceBeforeZone: fc.boolean(),
  fraction: fc.constantFrom('none', '.', ','),
});

function write(t: Parts, f: typeof formatArb extends fc.Arbitrary<infer F> ? F : never): { text: string; t: Parts } {
  const sign = t.zone.sign === 1 ? '+' : '-';
  const zoneText = {
    none: '',
    Z: 'Z',
    z: 'z',
    '±HH': `${sign}${pad(t.zone.hours)}`,
    '±HHMM': `${sign}${pad(t.zone.hours)}${pad(t.zone.minutes)}`,
    '±HH:MM': `${sign}${pad(t.zone.hours)}:${pad(t.zone.minutes)}`,
  }[f.zone];
  const zone =
    f.zone === 'none' || f.zone === 'Z' || f.zone === 'z' ? { sign: t.zone.sign, hours: 0, minutes: 0 } : t.zone;
  const minutes = f.zone === '±HH' ? 0 : zone.minutes;
  const ms = f.fraction === 'none' ? 0 : t.ms;
  const fraction = f.fraction === 'none' ? '' : `${f.fraction}${pad(t.ms, 3)}`;
  const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  const time = `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${fraction}`;
  const space = zoneText !== '' && f.spaceBeforeZone ? ' ' : '';
  return { text: `${date}${f.separator}${time}${space}${zoneText}`, t: { ...t, ms, zone: { ...zone, minutes } } };
}

describe('parseIsoTime', () => {
  it('accepts exactly the real calendar dates and times, in every zone format', () => {
    fc.assert(
      fc.property(partsArb, formatArb, (parts, format) => {
        const { text, t } = write(parts, format);
        assert.equal(parseIsoTime(text), oracle(t), text);
      }),
      { numRuns: 3000 },
    );
  });

  it('a date alone is its midnight UTC when it is a real date', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const text = `${pad(parts.year, 4)}-${pad(parts.month)}-${pad(parts.day)}`;
        const midnight = {
          ...parts,
          hour: 0,
          minute: 0,
          second: 0,
          ms: 0,
          zone: { sign: 1 as const, hours: 0, minutes: 0 },
        };
        assert.equal(parseIsoTime(text), oracle(midnight), text);
      }),
      { numRuns: 1000 },
    );
  });

  it('an impossible date is refused whatever its zone: 2025-02-30 is never 2 March (regression)', () => {
    for (const zone of ['Z', '+01:00', '+0100', '-05', ' +01:00', '']) {
      assert.equal(parseIsoTime(`2025-02-30T10:00:00${zone}`), null, zone);
    }
    assert.equal(parseIsoTime('2024-02-29T23:30:00-01:00'), Date.parse('2024-03-01T00:30:00Z'));
    assert.equal(parseIsoTime('2025-11-05T24:00:00+01:00'), null);
    assert.equal(parseIsoTime('2025-11-05T10:00:00+24:00'), null);
  });

  it('a deduction line stamped with an impossible date and an offset is unreadable, not counted elsewhere', () => {
    const line = '[TOKENS] Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99';
    assert.deepEqual(parseDeductionLine(`2025-02-30T10:00:00+01:00 ${line}`), {
      kind: 'unreadable',
      reason: 'invalid timestamp "2025-02-30T10:00:00+01:00"',
    });
  });
});
