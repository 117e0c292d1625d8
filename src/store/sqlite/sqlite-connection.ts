import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Row } from '../rows.ts';

type Param = string | number | bigint | null;

export type SqliteSynchronous = 'FULL' | 'NORMAL';

/**
 * WAL pages after which a commit copies them back into the database file (SQLite's default is
 * 1,000). A group-commit batch on many accounts dirties about that many pages itself, so with
 * the default every such commit also ran a checkpoint; with 10,000 (a WAL of up to ~40 MB), a
 * page changed by several batches is copied back once. Measured with `node bench/in-process.ts`
 * (SQLite FULL, 256 callers, alternating runs): 10,000 uniform accounts +18-27%, one hot account
 * +10-15%; 20,000 gained nothing more.
 */
const WAL_CHECKPOINT_PAGES = 10_000;

/** One node:sqlite connection with its prepared statements cached by SQL text. */
export class SqliteConnection {
  readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(path: string, busyTimeoutMs: number, synchronous: SqliteSynchronous = 'FULL') {
    this.db = new DatabaseSync(path, { timeout: busyTimeoutMs });
    // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, so an
    // acknowledged deduction survives power loss, not only a process crash. NORMAL (for
    // benchmarks and tests only) survives a process crash but not power loss.
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec(`PRAGMA synchronous = ${synchronous}`);
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  }

  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  get(sql: string, ...params: Param[]): Row | undefined {
    return this.prepare(sql).get(...params) as Row | undefined;
  }

  all(sql: string, ...params: Param[]): Row[] {
    return this.prepare(sql).all(...params) as Row[];
  }

  run(sql: string, ...params: Param[]): number {
    return Number(this.prepare(sql).run(...params).changes);
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  /**
   * Where SQLite keeps statement journals and temporary B-trees (sorts, indexes being built):
   * in memory or in temporary files. A batch's multi-row INSERT or UPDATE can fail on a
   * constraint halfway, so SQLite journals each page it first touches to be able to undo just
   * that statement; in a file that is a write syscall a page. In memory, the batch path ran
   * 11-16% faster (`node bench/in-process.ts`, SQLite FULL, 256 callers, hot and uniform, three
   * alternating runs). A statement journal is bounded by the pages one statement changes, but a
   * sort or an index built over a whole table is not: set it only on a connection whose
   * statements are small, and back to files around migrations.
   */
  tempStore(where: 'memory' | 'file'): void {
    this.db.exec(`PRAGMA temp_store = ${where === 'memory' ? 'MEMORY' : 'FILE'}`);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
