import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { TokenmeterError } from '../../core/errors.ts';
import type { LegacyColumns, LegacyItem, LegacySource } from './legacy-source.ts';
import { quoteIdentifier } from './sql-identifier.ts';

/**
 * A legacy SQLite database, opened read-only. Rows stream through `StatementSync.iterate()`;
 * integers are read as bigints so a value beyond 2^53 is reported instead of rounded.
 */
export function openSqliteLegacySource(path: string, columns: LegacyColumns): LegacySource {
  const table = quoteIdentifier('--table', columns.table);
  const names = { id: columns.id, balance: columns.balance, used: columns.used, plan: columns.plan };
  const quoted = {
    id: quoteIdentifier('--id-column', names.id),
    balance: quoteIdentifier('--balance-column', names.balance),
    used: quoteIdentifier('--used-column', names.used),
    plan: quoteIdentifier('--plan-column', names.plan),
  };
  if (!existsSync(path)) throw new TokenmeterError('invalid_request', `--source: no SQLite database at ${path}`);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (err) {
    throw sourceError(path, err);
  }
  try {
    const present = db
      .prepare(`PRAGMA table_info(${table})`)
      .all()
      .map((r) => String(r.name));
    if (present.length === 0) {
      throw new TokenmeterError('invalid_request', `--table: no table "${columns.table}" in ${path}`, 'table');
    }
    for (const [key, name] of Object.entries(names)) {
      if (!present.includes(name)) {
        throw new TokenmeterError(
          'invalid_request',
          `--${key}-column: table "${columns.table}" has no column "${name}" (it has: ${present.join(', ')})`,
          `${key}Column`,
        );
      }
    }
    const count = db.prepare(`SELECT count(*) AS n FROM ${table}`).get();
    const total = Number(count?.n ?? 0);
    const select = db.prepare(
      `SELECT ${quoted.id} AS c_id, ${quoted.balance} AS c_balance, ${quoted.used} AS c_used, ${quoted.plan} AS c_plan FROM ${table}`,
    );
    select.setReadBigInts(true);
    let read = 0;
    return {
      description: `sqlite:${path} (table ${columns.table})`,
      total,
      unit: 'rows',
      position: () => read,
      async *items(): AsyncGenerator<LegacyItem> {
        for (const r of select.iterate()) {
          read += 1;
          yield {
            kind: 'row',
            place: { row: read, line: null },
            row: { id: r.c_id, balance: r.c_balance, used: r.c_used, plan: r.c_plan },
          };
        }
      },
      async close() {
        if (db.isOpen) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err instanceof TokenmeterError ? err : sourceError(path, err);
  }
}

function sourceError(path: string, err: unknown): TokenmeterError {
  const message = err instanceof Error ? err.message : String(err);
  return new TokenmeterError('invalid_request', `--source: cannot read the SQLite database ${path}: ${message}`);
}
