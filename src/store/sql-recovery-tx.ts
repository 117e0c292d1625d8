import type { RecoveredLine } from '../core/recovery.ts';
import type { RecoveryTx } from './recovery-tx.ts';
import { int, intOrNull, type Row, str } from './rows.ts';
import type { SqlParam } from './sql-payment-tx.ts';

/** One statement with `?` placeholders; `numbered` rewrites them as $1, $2… for PostgreSQL. */
export type RecoverySql = (sql: string, params: readonly SqlParam[]) => Promise<Row[]>;

const INSERT = `INSERT INTO recovered_lines (account_id, line_hash, tokens, at, entry_id, recovered_at)
VALUES (?, ?, ?, ?, ?, ?)`;

/** The recovered_lines statements, the same SQL on both backends. */
export class SqlRecoveryTx implements RecoveryTx {
  private readonly query: RecoverySql;
  private readonly numbered: boolean;

  constructor(query: RecoverySql, placeholders: 'question' | 'numbered') {
    this.query = query;
    this.numbered = placeholders === 'numbered';
  }

  async recoveredLines(account: string): Promise<RecoveredLine[]> {
    const rows = await this.run('SELECT * FROM recovered_lines WHERE account_id = ? ORDER BY recovered_at, line_hash', [
      account,
    ]);
    return rows.map(toRecoveredLine);
  }

  async insertRecoveredLines(rows: readonly RecoveredLine[]): Promise<void> {
    // A plain INSERT: a key met again is a unique violation that rolls the transaction back.
    for (const r of rows) await this.run(INSERT, [r.account, r.key, r.tokens, r.at, r.entryId, r.recoveredAt]);
  }

  private run(sql: string, params: readonly SqlParam[]): Promise<Row[]> {
    let n = 0;
    return this.query(this.numbered ? sql.replace(/\?/g, () => `$${++n}`) : sql, params);
  }
}

function toRecoveredLine(row: Row): RecoveredLine {
  return {
    account: str(row, 'account_id'),
    key: str(row, 'line_hash'),
    tokens: int(row, 'tokens'),
    at: intOrNull(row, 'at'),
    entryId: intOrNull(row, 'entry_id'),
    recoveredAt: int(row, 'recovered_at'),
  };
}
