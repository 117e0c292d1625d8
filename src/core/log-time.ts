import { invalid } from './errors.ts';

// 2025-11-05T10:00:00Z, 2025-11-05 10:00:00.123456, [2025-11-05T10:00:00+01:00], 2025-11-05T10:00Z
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?/;
const LEADING = /^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)\]?/;

/**
 * Milliseconds since the epoch for an ISO-8601 time, or null when the text is not one. A time
 * without a zone is UTC (log shippers write UTC; a local reading would depend on the machine
 * running the command); a date alone is its midnight UTC. Every part is checked against the
 * calendar whatever the zone: 2025-02-30, 24:00 or a +25:00 offset is not a time (Date.parse
 * would roll such a date over to another day, and a log line so dated is not to be trusted).
 */
export function parseIsoTime(text: string): number | null {
  const m = ISO.exec(text.trim());
  if (!m || m[0].length !== text.trim().length) return null;
  const [, date, hm, fraction, zone] = m;
  const time = hm === undefined ? '00:00:00' : hm.length === 5 ? `${hm}:00` : hm;
  const tz = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : normalizeZone(zone);
  if (date === undefined || !realDate(date) || !realClock(time) || !realZone(tz)) return null;
  const ms = fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`;
  const at = Date.parse(`${date}T${time}${ms}${tz}`);
  return Number.isFinite(at) ? at : null;
}

/** A command-line time (`--since`, `--until`): ISO-8601, UTC unless it names a zone. */
export function requireIsoTime(field: string, text: string): number {
  const at = parseIsoTime(text);
  if (at === null) throw invalid(field, `must be an ISO-8601 time such as 2025-11-05T10:00:00Z, got "${text}"`);
  return at;
}

/** The timestamp a log line starts with (optionally in brackets), or null when it has none. */
export function leadingTimestamp(line: string): { at: number | null; text: string } | null {
  const m = LEADING.exec(line);
  if (!m?.[1]) return null;
  return { at: parseIsoTime(m[1]), text: m[1] };
}

function normalizeZone(zone: string): string {
  const digits = zone.slice(1).replace(':', '');
  const hours = digits.slice(0, 2);
  const minutes = digits.slice(2, 4) || '00';
  return `${zone[0]}${hours}:${minutes}`;
}

/** YYYY-MM-DD names a day of the (proleptic Gregorian) calendar. */
function realDate(date: string): boolean {
  const [year, month, day] = date.split('-').map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** HH:MM:SS is a time of day: 00:00:00 to 23:59:59 (no 24:00, no leap second). */
function realClock(time: string): boolean {
  const [hour, minute, second] = time.split(':').map(Number);
  return (
    hour !== undefined && minute !== undefined && second !== undefined && hour <= 23 && minute <= 59 && second <= 59
  );
}

/** Z, or an offset of at most 23:59. */
function realZone(tz: string): boolean {
  if (tz === 'Z') return true;
  const [hours, minutes] = tz.slice(1).split(':').map(Number);
  return hours !== undefined && minutes !== undefined && hours <= 23 && minutes <= 59;
}
