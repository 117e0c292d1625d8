import { SQLITE_DIALECT, sqliteParams } from '../sql-dialect.ts';
import { SqlServiceQueries } from '../sql-service-queries.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/**
 * The service-side queries on SQLite. Writes here are single statements, atomic on their own;
 * `inWrite` runs them (synchronously, so they follow one another) where no other caller's
 * transaction is open on the write connection.
 */
export class SqliteServiceQueries extends SqlServiceQueries {
  constructor(writer: SqliteConnection, reader: SqliteConnection, inWrite: <T>(fn: () => T) => Promise<T>) {
    super({
      dialect: SQLITE_DIALECT,
      read: async (sql, params) => reader.all(sql, ...sqliteParams(params)),
      write: (statements) => inWrite(() => statements.map((s) => writer.all(s.sql, ...sqliteParams(s.params)))),
    });
  }
}
