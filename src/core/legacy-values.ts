/**
 * Reading the loosely typed values of a legacy app's database or CSV export. What counts as
 * NULL: SQL NULL, an empty (or blank) text, and the texts `NULL`, `null` and `\N` that CSV
 * dumps use for it.
 */

/** A legacy value read as an integer, NULL, or why it is not one. */
export type LegacyInt = { ok: true; value: number | null } | { ok: false; reason: string };

const NULL_TEXTS = new Set(['', 'NULL', 'null', '\\N']);

export function isLegacyNull(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  return typeof value === 'string' && NULL_TEXTS.has(value.trim());
}

/**
 * An integer in [min, max]: a JS integer, a bigint, or a text of digits (a decimal column's
 * `100.00` too, since its value is whole). `1.5`, `12abc` and out-of-range values are not.
 */
export function legacyInt(value: unknown, min: number, max: number): LegacyInt {
  if (isLegacyNull(value)) return { ok: true, value: null };
  let n: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { ok: false, reason: `${value} is not an integer` };
    n = value;
  } else if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      return { ok: false, reason: `${value} is out of range` };
    }
    n = Number(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    const match = /^([+-]?\d{1,16})(?:\.0*)?$/.exec(text);
    if (!match?.[1]) return { ok: false, reason: `"${clip(value)}" is not an integer` };
    n = Number(match[1]);
  } else {
    return { ok: false, reason: `a ${describeType(value)} is not an integer` };
  }
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return { ok: false, reason: `${n} is out of range (${min} to ${max})` };
  }
  return { ok: true, value: n };
}

/** A text value, or null for NULL; numbers become their decimal text. Undefined for other types. */
export function legacyText(value: unknown): string | null | undefined {
  if (isLegacyNull(value)) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  return undefined;
}

/** A value shortened for a report line. */
export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function describeType(value: unknown): string {
  if (value instanceof Uint8Array) return 'binary value';
  if (value instanceof Date) return 'date';
  return typeof value;
}
