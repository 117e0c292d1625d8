import type { JsonValue } from '../ledger/wire.ts';

/**
 * One CSV line (RFC 4180, CRLF). A text cell that a spreadsheet would run as a formula (it
 * starts with =, +, -, @, tab or CR) is prefixed with an apostrophe: account ids come from
 * outside, and an export must not become a way to run one in an operator's spreadsheet.
 */
export function csvLine(cells: readonly JsonValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
