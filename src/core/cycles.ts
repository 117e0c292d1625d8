/** Milliseconds since the epoch as an ISO-8601 UTC string; also the cycle part of renewal references. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

function assertTime(name: string, ms: number): void {
  if (!Number.isFinite(ms)) throw new RangeError(`${name} must be a finite epoch-millisecond time: ${String(ms)}`);
}

function daysInMonthUtc(year: number, month: number): number {
  // Day 0 of the following month is the last day of this one.
  const last = new Date(0);
  last.setUTCFullYear(year, month + 1, 0);
  return last.getUTCDate();
}

/** The anchor plus `months` calendar months (UTC), same time of day, day clamped to the target month's length. */
export function addMonthsUtc(anchorMs: number, months: number): number {
  assertTime('anchorMs', anchorMs);
  if (!Number.isInteger(months)) throw new RangeError(`months must be an integer: ${String(months)}`);
  const anchor = new Date(anchorMs);
  const monthIndex = anchor.getUTCMonth() + months;
  const year = anchor.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonthUtc(year, month));
  // setUTCFullYear rather than Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  // Year, month and day are set in one call so no intermediate date overflows.
  const result = new Date(anchorMs);
  result.setUTCFullYear(year, month, day);
  return result.getTime();
}

/** The largest n >= 0 with addMonthsUtc(anchor, n) <= t; 0 when t is before the anchor. */
export function cycleIndexAt(anchorMs: number, t: number): number {
  assertTime('anchorMs', anchorMs);
  assertTime('t', t);
  if (t < anchorMs) return 0;
  const anchor = new Date(anchorMs);
  const at = new Date(t);
  // Boundary n always falls in the calendar month anchor + n, so the month difference
  // is exact or one too many (when t is earlier in that month than the boundary).
  let n = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (at.getUTCMonth() - anchor.getUTCMonth());
  if (n > 0 && addMonthsUtc(anchorMs, n) > t) n -= 1;
  // Defensive: the estimate argument above says this never runs, but it keeps the contract if it were wrong.
  while (addMonthsUtc(anchorMs, n + 1) <= t) n += 1;
  return n;
}

/** The first boundary addMonthsUtc(anchor, n), n >= 1, strictly after t. */
export function nextBoundaryAfter(anchorMs: number, t: number): number {
  return addMonthsUtc(anchorMs, cycleIndexAt(anchorMs, t) + 1);
}

/** Every boundary b (n >= 1) with cycleStart < b <= now, ascending: the renewals a lazy account has missed. */
export function dueBoundaries(anchorMs: number, cycleStartMs: number, nowMs: number): number[] {
  assertTime('nowMs', nowMs);
  // The common case on the hot path: nothing due. The first boundary depends only on the
  // anchor and the cycle start, so it is remembered (a bounded memo of a pure function).
  if (cycleEndAfter(anchorMs, cycleStartMs) > nowMs) return [];
  const due: number[] = [];
  // Each boundary is computed from the anchor, never from the previous one, so clamping
  // in a short month does not drag every later boundary to an earlier day.
  for (let n = cycleIndexAt(anchorMs, cycleStartMs) + 1; ; n += 1) {
    const boundary = addMonthsUtc(anchorMs, n);
    if (boundary > nowMs) break;
    due.push(boundary);
  }
  return due;
}

const CYCLE_END_MEMO_SIZE = 10_000;
/** anchor → cycle start → cycle end; numbers as keys, so a hit allocates nothing. */
const cycleEndMemo = new Map<number, Map<number, number>>();
let cycleEndMemoSize = 0;

/**
 * The end of the cycle that starts at `cycleStartMs`: nextBoundaryAfter(anchor, cycleStart), remembered
 * (every write and read of an account asks it, with the same two figures until the cycle turns).
 */
export function cycleEndAfter(anchorMs: number, cycleStartMs: number): number {
  let byStart = cycleEndMemo.get(anchorMs);
  let end = byStart?.get(cycleStartMs);
  if (end === undefined) {
    end = nextBoundaryAfter(anchorMs, cycleStartMs);
    if (cycleEndMemoSize >= CYCLE_END_MEMO_SIZE) {
      cycleEndMemo.clear();
      cycleEndMemoSize = 0;
      byStart = undefined;
    }
    if (!byStart) {
      byStart = new Map();
      cycleEndMemo.set(anchorMs, byStart);
    }
    byStart.set(cycleStartMs, end);
    cycleEndMemoSize += 1;
  }
  return end;
}
