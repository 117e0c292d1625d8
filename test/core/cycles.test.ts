import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addMonthsUtc, cycleIndexAt, dueBoundaries, isoUtc, nextBoundaryAfter } from '../../src/core/cycles.ts';

const ms = (iso: string): number => Date.parse(iso);
const iso = (t: number): string => isoUtc(t);

function bruteForceIndex(anchor: number, t: number): number {
  let n = 0;
  while (addMonthsUtc(anchor, n + 1) <= t) n += 1;
  return n;
}

describe('addMonthsUtc', () => {
  it('clamps a 31st anchor to Feb 28 in a non-leap year and returns to the 31st in March', () => {
    const anchor = ms('2027-01-31T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 1)), '2027-02-28T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 2)), '2027-03-31T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 3)), '2027-04-30T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 4)), '2027-05-31T00:00:00.000Z');
  });

  it('clamps a 31st anchor to Feb 29 in a leap year', () => {
    const anchor = ms('2028-01-31T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 1)), '2028-02-29T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 2)), '2028-03-31T00:00:00.000Z');
  });

  it('clamps 29th and 30th anchors in February and restores them afterwards', () => {
    const on29 = ms('2027-01-29T08:00:00.000Z');
    assert.equal(iso(addMonthsUtc(on29, 1)), '2027-02-28T08:00:00.000Z');
    assert.equal(iso(addMonthsUtc(on29, 2)), '2027-03-29T08:00:00.000Z');
    const leap29 = ms('2028-01-29T08:00:00.000Z');
    assert.equal(iso(addMonthsUtc(leap29, 1)), '2028-02-29T08:00:00.000Z');
    const on30 = ms('2027-01-30T08:00:00.000Z');
    assert.equal(iso(addMonthsUtc(on30, 1)), '2027-02-28T08:00:00.000Z');
    assert.equal(iso(addMonthsUtc(on30, 2)), '2027-03-30T08:00:00.000Z');
    const leap30 = ms('2028-01-30T08:00:00.000Z');
    assert.equal(iso(addMonthsUtc(leap30, 1)), '2028-02-29T08:00:00.000Z');
  });

  it('computes every boundary from the anchor rather than from the previous clamped boundary', () => {
    const anchor = ms('2027-01-31T00:00:00.000Z');
    const chained = addMonthsUtc(addMonthsUtc(anchor, 1), 1);
    assert.equal(iso(chained), '2027-03-28T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 2)), '2027-03-31T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 12)), '2028-01-31T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 13)), '2028-02-29T00:00:00.000Z');
  });

  it('rolls over the year from December to January', () => {
    const anchor = ms('2027-12-15T10:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 1)), '2028-01-15T10:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, 13)), '2029-01-15T10:00:00.000Z');
    const dec31 = ms('2027-12-31T00:00:00.000Z');
    assert.equal(iso(addMonthsUtc(dec31, 2)), '2028-02-29T00:00:00.000Z');
  });

  it('preserves the UTC time of day to the millisecond', () => {
    const anchor = ms('2027-01-31T23:59:59.999Z');
    assert.equal(iso(addMonthsUtc(anchor, 1)), '2027-02-28T23:59:59.999Z');
    assert.equal(iso(addMonthsUtc(anchor, 7)), '2027-08-31T23:59:59.999Z');
  });

  it('returns the anchor itself for zero months and goes backwards for negative months', () => {
    const anchor = ms('2027-03-31T12:00:00.000Z');
    assert.equal(addMonthsUtc(anchor, 0), anchor);
    assert.equal(iso(addMonthsUtc(anchor, -1)), '2027-02-28T12:00:00.000Z');
    assert.equal(iso(addMonthsUtc(anchor, -3)), '2026-12-31T12:00:00.000Z');
  });

  it('rejects non-integer month counts and non-finite anchors', () => {
    assert.throws(() => addMonthsUtc(0, 1.5), RangeError);
    assert.throws(() => addMonthsUtc(Number.NaN, 1), RangeError);
  });
});

describe('cycleIndexAt', () => {
  const anchor = ms('2027-01-31T09:30:00.000Z');
  const firstBoundary = ms('2027-02-28T09:30:00.000Z');

  it('is 0 at the anchor and before it', () => {
    assert.equal(cycleIndexAt(anchor, anchor), 0);
    assert.equal(cycleIndexAt(anchor, anchor - 1), 0);
    assert.equal(cycleIndexAt(anchor, ms('2020-01-01T00:00:00.000Z')), 0);
  });

  it('advances exactly at a boundary and not 1 ms before it', () => {
    assert.equal(cycleIndexAt(anchor, firstBoundary - 1), 0);
    assert.equal(cycleIndexAt(anchor, firstBoundary), 1);
    const third = addMonthsUtc(anchor, 3);
    assert.equal(cycleIndexAt(anchor, third - 1), 2);
    assert.equal(cycleIndexAt(anchor, third), 3);
  });

  it('handles a time later in the month than the boundary and earlier in the next month', () => {
    assert.equal(cycleIndexAt(anchor, ms('2027-03-01T00:00:00.000Z')), 1);
    assert.equal(cycleIndexAt(anchor, ms('2027-03-31T09:29:59.999Z')), 1);
    assert.equal(cycleIndexAt(anchor, ms('2027-03-31T09:30:00.000Z')), 2);
  });

  it('agrees with a brute-force month loop ten years ahead', () => {
    for (const anchorIso of ['2027-01-31T09:30:00.000Z', '2028-02-29T00:00:00.000Z', '2027-12-30T23:59:59.999Z']) {
      const a = ms(anchorIso);
      for (const n of [0, 1, 11, 12, 13, 59, 60, 119, 120]) {
        const boundary = addMonthsUtc(a, n);
        for (const t of [boundary - 1, boundary, boundary + 1, boundary + 15 * 86_400_000]) {
          assert.equal(cycleIndexAt(a, t), bruteForceIndex(a, t), `anchor ${anchorIso} t ${iso(t)}`);
        }
      }
    }
  });

  it('brackets t between boundary n and boundary n + 1 for any anchor and time (property)', () => {
    const min = ms('2000-01-01T00:00:00.000Z');
    const max = ms('2100-12-31T23:59:59.999Z');
    fc.assert(
      fc.property(fc.integer({ min, max }), fc.integer({ min: 0, max: max - min }), (a, offset) => {
        const t = a + offset;
        const n = cycleIndexAt(a, t);
        assert.ok(n >= 0);
        assert.ok(addMonthsUtc(a, n) <= t, `boundary ${n} ${iso(addMonthsUtc(a, n))} after ${iso(t)}`);
        assert.ok(t < addMonthsUtc(a, n + 1), `boundary ${n + 1} ${iso(addMonthsUtc(a, n + 1))} not after ${iso(t)}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('brackets times within a few ms of a boundary, including month-end anchors (property)', () => {
    const monthEndAnchor = fc
      .record({
        year: fc.integer({ min: 2000, max: 2100 }),
        month: fc.integer({ min: 0, max: 11 }),
        day: fc.integer({ min: 28, max: 31 }),
        msOfDay: fc.integer({ min: 0, max: 86_399_999 }),
      })
      .map(({ year, month, day, msOfDay }) => Date.UTC(year, month, day) + msOfDay);
    fc.assert(
      fc.property(monthEndAnchor, fc.integer({ min: 0, max: 1300 }), fc.integer({ min: -2, max: 2 }), (a, k, delta) => {
        const t = addMonthsUtc(a, k) + delta;
        const n = cycleIndexAt(a, t);
        assert.ok(addMonthsUtc(a, n) <= t || (n === 0 && t < a));
        assert.ok(t < addMonthsUtc(a, n + 1));
        assert.equal(n, k === 0 && delta < 0 ? 0 : delta < 0 ? k - 1 : k);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the brute-force loop for random anchors and times within ten years (property)', () => {
    const min = ms('2000-01-01T00:00:00.000Z');
    const max = ms('2100-12-31T23:59:59.999Z');
    const tenYears = 3653 * 86_400_000;
    fc.assert(
      fc.property(fc.integer({ min, max }), fc.integer({ min: -86_400_000, max: tenYears }), (a, offset) => {
        assert.equal(cycleIndexAt(a, a + offset), bruteForceIndex(a, a + offset));
      }),
      { numRuns: 300 },
    );
  });
});

describe('nextBoundaryAfter', () => {
  const anchor = ms('2027-01-31T00:00:00.000Z');

  it('is the first boundary after the anchor for times at or before it', () => {
    assert.equal(iso(nextBoundaryAfter(anchor, anchor)), '2027-02-28T00:00:00.000Z');
    assert.equal(iso(nextBoundaryAfter(anchor, anchor - 86_400_000)), '2027-02-28T00:00:00.000Z');
  });

  it('is strictly after t even when t is itself a boundary', () => {
    const feb = ms('2027-02-28T00:00:00.000Z');
    assert.equal(iso(nextBoundaryAfter(anchor, feb - 1)), '2027-02-28T00:00:00.000Z');
    assert.equal(iso(nextBoundaryAfter(anchor, feb)), '2027-03-31T00:00:00.000Z');
  });

  it('crosses the year end', () => {
    assert.equal(iso(nextBoundaryAfter(anchor, ms('2027-12-31T00:00:00.000Z'))), '2028-01-31T00:00:00.000Z');
  });
});

describe('dueBoundaries', () => {
  const anchor = ms('2027-11-30T06:00:00.000Z');

  it('is empty before the first boundary and 1 ms before it', () => {
    assert.deepEqual(dueBoundaries(anchor, anchor, anchor), []);
    assert.deepEqual(dueBoundaries(anchor, anchor, ms('2027-12-30T05:59:59.999Z')), []);
  });

  it('includes a boundary exactly at now', () => {
    assert.deepEqual(dueBoundaries(anchor, anchor, ms('2027-12-30T06:00:00.000Z')).map(iso), [
      '2027-12-30T06:00:00.000Z',
    ]);
  });

  it('lists every missed boundary in order, across the year end and a short February', () => {
    const due = dueBoundaries(anchor, anchor, ms('2028-03-30T06:00:00.000Z')).map(iso);
    assert.deepEqual(due, [
      '2027-12-30T06:00:00.000Z',
      '2028-01-30T06:00:00.000Z',
      '2028-02-29T06:00:00.000Z',
      '2028-03-30T06:00:00.000Z',
    ]);
  });

  it('excludes the boundary the current cycle started on', () => {
    const cycleStart = ms('2028-01-30T06:00:00.000Z');
    assert.deepEqual(dueBoundaries(anchor, cycleStart, ms('2028-02-29T06:00:00.000Z')).map(iso), [
      '2028-02-29T06:00:00.000Z',
    ]);
    assert.deepEqual(dueBoundaries(anchor, cycleStart, ms('2028-02-29T05:59:59.999Z')), []);
  });

  it('starts from the next boundary when the cycle started between boundaries', () => {
    const cycleStart = ms('2028-01-10T00:00:00.000Z');
    assert.deepEqual(dueBoundaries(anchor, cycleStart, ms('2028-02-29T06:00:00.000Z')).map(iso), [
      '2028-01-30T06:00:00.000Z',
      '2028-02-29T06:00:00.000Z',
    ]);
  });

  it('is empty when now is before the cycle start', () => {
    assert.deepEqual(dueBoundaries(anchor, ms('2028-01-30T06:00:00.000Z'), ms('2027-12-01T00:00:00.000Z')), []);
  });
});
