import { TokenmeterError } from '../../core/errors.ts';
import { pgModule } from '../../store/postgres/pg-module.ts';
import type { LegacyColumns, LegacyItem, LegacySource } from './legacy-source.ts';
import { redactUrl } from './redact-url.ts';
import { bareName, quoteIdentifier } from './sql-identifier.ts';

const FETCH_SIZE = 1000;

/**
 * A legacy PostgreSQL database. The rows are read through a server-side cursor in one
 * read-only REPEATABLE READ transaction: a consistent snapshot (the count and the rows agree),
 * fetched a thousand at a time, whatever the table's size or key.
 */
export async function openPgLegacySource(url: string, columns: LegacyColumns): Promise<LegacySource> {
  const table = quoteIdentifier('--table', columns.table, true);
  const quoted = {
    id: quoteIdentifier('--id-column', columns.id),
    balance: quoteIdentifier('--balance-column', columns.balance),
    used: quoteIdentifier('--used-column', columns.used),
    plan: quoteIdentifier('--plan-column', columns.plan),
  };
  const safeUrl = redactUrl(url);
  const client = new (pgModule().Client)({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {
    // A dropped connection also fails the query in flight, which reports it.
  });
  try {
    await client.connect();
  } catch (err) {
    throw new TokenmeterError('invalid_request', `--source: cannot connect to ${safeUrl}: ${describe(err)}`);
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const schema = columns.table.includes('.') ? (columns.table.split('.')[0] ?? null) : null;
    const found = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2 ORDER BY ordinal_position`,
      [schema, bareName(columns.table)],
    );
    const present = found.rows.map((r) => r.column_name);
    if (present.length === 0) {
      throw new TokenmeterError('invalid_request', `--table: no table "${columns.table}" in ${safeUrl}`, 'table');
    }
    for (const key of ['id', 'balance', 'used', 'plan'] as const) {
      if (!present.includes(columns[key])) {
        throw new TokenmeterError(
          'invalid_request',
          `--${key}-column: table "${columns.table}" has no column "${columns[key]}" (it has: ${present.join(', ')})`,
          `${key}Column`,
        );
      }
    }
    const count = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
    const total = Number(count.rows[0]?.n ?? 0);
    await client.query(
      `DECLARE tm_legacy_rows NO SCROLL CURSOR FOR
       SELECT ${quoted.id} AS c_id, ${quoted.balance} AS c_balance, ${quoted.used} AS c_used, ${quoted.plan} AS c_plan
       FROM ${table}`,
    );
    let read = 0;
    let open = true;
    return {
      description: `${safeUrl} (table ${columns.table})`,
      total,
      unit: 'rows',
      position: () => read,
      async *items(): AsyncGenerator<LegacyItem> {
        for (;;) {
          const page = await client
            .query<Record<string, unknown>>(`FETCH FORWARD ${FETCH_SIZE} FROM tm_legacy_rows`)
            .catch((err: unknown) => {
              throw new TokenmeterError('unavailable', `--source: reading ${safeUrl} failed: ${describe(err)}`);
            });
          for (const r of page.rows) {
            read += 1;
            yield {
              kind: 'row',
              place: { row: read, line: null },
              row: { id: r.c_id, balance: r.c_balance, used: r.c_used, plan: r.c_plan },
            };
          }
          if (page.rows.length < FETCH_SIZE) return;
        }
      },
      async close() {
        if (!open) return;
        open = false;
        await client.query('ROLLBACK').catch(() => {});
        await client.end();
      },
    };
  } catch (err) {
    await client.end().catch(() => {});
    if (err instanceof TokenmeterError) throw err;
    throw new TokenmeterError('invalid_request', `--source: cannot read ${safeUrl}: ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError) return err.errors.map(describe).join('; ');
  return err instanceof Error ? err.message || err.name : String(err);
}
