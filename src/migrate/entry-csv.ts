import type { LedgerEntry } from '../core/entry.ts';

/** The columns of a ledger export, in order (the JSON export's field names). */
export const ENTRY_CSV_COLUMNS = [
  'id',
  'at',
  'account',
  'kind',
  'amount',
  'allocation_delta',
  'purchased_delta',
  'balance_after',
  'feature',
  'quantity',
  'idempotency_key',
  'source',
  'reference',
  'reason',
  'actor',
  // Added with grants, after the columns exports had before, so existing readers keep working.
  'promotional_delta',
  'debt_delta',
  'grants',
  // Added with shared pools, at the end for the same reason: a member's entry names its pool and
  // what the pool paid of the use (its amount is the member's own part); a pool's entry names the member.
  'pool',
  'pooled',
  'member',
] as const;

/** The header line, with its line ending. */
export function entryCsvHeader(): string {
  return `${ENTRY_CSV_COLUMNS.join(',')}\r\n`;
}

/** One entry as a CSV line (RFC 4180: CRLF, quotes doubled), times in ISO-8601 UTC. */
export function entryCsvLine(e: LedgerEntry): string {
  const cells = [
    String(e.id),
    new Date(e.at).toISOString(),
    text(e.account),
    e.kind,
    String(e.amount),
    String(e.allocationDelta),
    String(e.purchasedDelta),
    String(e.balanceAfter),
    text(e.feature),
    e.quantity === null ? '' : String(e.quantity),
    text(e.idempotencyKey),
    text(e.source),
    text(e.reference),
    text(e.reason),
    text(e.actor),
    String(e.promotionalDelta),
    String(e.debtDelta),
    // Which grants the entry moved: "id:delta" pairs separated by spaces.
    text(e.grantMoves.map((m) => `${m.grant}:${m.delta}`).join(' ') || null),
    text(e.poolId ?? null),
    String(e.pooled ?? 0),
    text(e.memberId ?? null),
  ];
  return `${cells.map(quote).join(',')}\r\n`;
}

/**
 * A free-text cell. One that a spreadsheet would run as a formula (=, +, -, @, tab, CR at
 * the start) is prefixed with an apostrophe: reasons and ids are typed by people and apps,
 * and an accounting export is opened in spreadsheets.
 */
function text(value: string | null): string {
  if (value === null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
