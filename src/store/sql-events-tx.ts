import type { EventDraft } from '../core/event.ts';
import { int, type Row } from './rows.ts';
import type { SqlDialect, SqlValue } from './sql-dialect.ts';

/** What writing events needs of a write transaction: its statements, in it. */
export interface EventsSql {
  readonly dialect: SqlDialect;
  query(sql: string, params: readonly SqlValue[]): Promise<Row[]>;
}

/**
 * Appends events inside the write transaction of the change that caused them, the accounts
 * already locked: each takes its account's next sequence (UNIQUE with the account, so a bug that
 * reused one fails the write), and every endpoint that wants its type gets a pending delivery,
 * due at once. An event with a dedupe key written before (a reminder) is skipped.
 */
export async function writeEvents(sql: EventsSql, events: readonly EventDraft[]): Promise<void> {
  const d = sql.dialect;
  const last = new Map<string, number>();
  if (d.notifyEvents !== null && events.length > 0) await sql.query(d.notifyEvents, []);
  for (const e of events) {
    let sequence = last.get(e.account);
    if (sequence === undefined) {
      const [row] = await sql.query('SELECT coalesce(max(sequence), 0) AS last FROM events WHERE account_id = ?', [
        e.account,
      ]);
      sequence = row ? int(row, 'last') : 0;
    }
    const inserted = await sql.query(
      `INSERT INTO events (id, account_id, sequence, type, at, data, dedupe_key, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [e.id, e.account, sequence + 1, e.type, e.at, JSON.stringify(e.data), e.dedupeKey, e.recordedAt],
    );
    if (inserted.length === 0) continue;
    last.set(e.account, sequence + 1);
    // An endpoint's `events` is a JSON array of type names (none: every type); the names hold no
    // LIKE wildcard, so the quoted name matches exactly one element.
    await sql.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
       SELECT w.id, ${d.typed('text')}, 'pending', 0, ${d.typed('bigint')}, ${d.typed('bigint')}
       FROM webhook_endpoints w
       WHERE w.deleted_at IS NULL AND (w.events IS NULL OR w.events LIKE ${d.typed('text')})`,
      [e.id, e.recordedAt, e.recordedAt, `%"${e.type}"%`],
    );
  }
}
