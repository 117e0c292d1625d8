import type { EventDraft } from '../../core/event.ts';
import type { PgQueryable } from './pg-client.ts';

/** The channel a commit that wrote events notifies (sql-dialect.ts's notifyEvents names it too). */
export const EVENTS_CHANNEL = 'tokenmeter_events';

/**
 * A write's events as parts of one statement (`WITH ...`): each takes its account's next sequence
 * (read under the account's lock, which the write holds), and every endpoint that wants its type
 * gets a pending delivery. `param` is a JSON array of `eventRows`. sql-events-tx.ts does the same
 * a statement at a time; here it costs no round trip of its own: the batch write carries it.
 */
export function eventsCte(param: string): string {
  return `ev AS (
  SELECT * FROM json_to_recordset(${param}::json)
    AS v(ord bigint, id text, account text, n bigint, type text, at bigint, data text, recorded bigint)
),
ev_last AS (
  SELECT account_id, max(sequence) AS m FROM events
  WHERE account_id IN (SELECT DISTINCT account FROM ev) GROUP BY account_id
),
-- Positions drawn for the events, then handed out smallest first in the batch's order: the order
-- the rows of an INSERT draw an identity in is the plan's, not the batch's, and a receiver must
-- find an account's events in position order where their sequence puts them.
ev_positions AS (
  SELECT p.position, p.i - 1 AS ord
  FROM unnest((SELECT array_agg(x ORDER BY x)
               FROM (SELECT nextval(pg_get_serial_sequence('events', 'position')) AS x FROM ev) AS drawn))
    WITH ORDINALITY AS p(position, i)
),
new_events AS (
  INSERT INTO events (position, id, account_id, sequence, type, at, data, created_at)
  OVERRIDING SYSTEM VALUE
  SELECT ev_positions.position, ev.id, ev.account, coalesce(ev_last.m, 0) + ev.n, ev.type, ev.at, ev.data, ev.recorded
  FROM ev JOIN ev_positions ON ev_positions.ord = ev.ord LEFT JOIN ev_last ON ev_last.account_id = ev.account
  RETURNING id, type, created_at
),
new_deliveries AS (
  INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
  SELECT w.id, new_events.id, 'pending', 0, new_events.created_at, new_events.created_at
  FROM new_events JOIN webhook_endpoints w
    ON w.deleted_at IS NULL AND (w.events IS NULL OR w.events LIKE '%"' || new_events.type || '"%')
  RETURNING 1
)`;
}

/** What the statement answers of its events: how many were written, having told other processes. */
export const EVENTS_WRITTEN = `(SELECT count(*) FROM new_events) AS new_events,
  CASE WHEN EXISTS (SELECT 1 FROM new_events) THEN pg_notify('${EVENTS_CHANNEL}', '') END AS notified`;

/**
 * The rows for `eventsCte`, or null when an event has a dedupe key (a reminder, which may have
 * been written before: those go a statement at a time, skipping a duplicate).
 */
export function eventRows(events: readonly EventDraft[]): string | null {
  if (events.some((e) => e.dedupeKey !== null)) return null;
  const nth = new Map<string, number>();
  return JSON.stringify(
    events.map((e, ord) => {
      const n = (nth.get(e.account) ?? 0) + 1;
      nth.set(e.account, n);
      return {
        ord,
        id: e.id,
        account: e.account,
        n,
        type: e.type,
        at: e.at,
        data: JSON.stringify(e.data),
        recorded: e.recordedAt,
      };
    }),
  );
}

/** Writes events in one round trip; false (nothing written) when `eventRows` cannot take them. */
export async function writeEventsAtOnce(q: PgQueryable, events: readonly EventDraft[]): Promise<boolean> {
  const rows = eventRows(events);
  if (rows === null) return false;
  const [row] = await q.query(`WITH ${eventsCte('$1')} SELECT ${EVENTS_WRITTEN}`, [rows]);
  if (Number(row?.new_events) !== events.length)
    throw new Error(`wrote ${String(row?.new_events)} of ${events.length} events`);
  return true;
}
