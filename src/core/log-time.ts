import { invalid } from './errors.ts';

// 2025-11-05T10:00:00Z, 2025-11-05 10:00:00.123456, [2025-11-05T10:00:00+01:00], 2025-11-05T10:00Z
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?/;
const LEADING = /^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)\]?/;

/**
 * Milliseconds since the epoch for an ISO-8601 time, or null when the text is not one. A time
 * without a zone is UTC (log shippers write UTC; a local reading would depend on the machine
 * running the command); a date alone is its midnight UTC.
 */
export function parseIsoTime(text: string): number | null {
  const m = ISO.exec(text.trim());
  if (!m || m[0].length !== text.trim().length) return null;
  const [, date, hm, fraction, zone] = m;
  const time = hm === undefined ? '00:00:00' : hm.length === 5 ? `${hm}:00` : hm;
  const ms = fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`;
  const tz = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : normalizeZone(zone);
  const at = Date.parse(`${date}T${time}${ms}${tz}`);
  if (!Number.isFinite(at)) return null;
  // Date.parse rolls 2025-02-30 over to March; a log with such a date is not trusted.
  if (new Date(at).toISOString().slice(0, 10) !== date && tz === 'Z') return null;
  return at;
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
