import type { Row } from '../rows.ts';
import { numbered, PG_DIALECT, type SqlValue } from '../sql-dialect.ts';
import { SqlServiceQueries } from '../sql-service-queries.ts';
import type { PgQueryable } from './pg-client.ts';
import { translatePgError } from './pg-errors.ts';

/** The service-side queries on PostgreSQL; each write is one statement, atomic on its own. */
export class PgServiceQueries extends SqlServiceQueries {
  constructor(client: PgQueryable) {
    const q = async (sql: string, params: readonly SqlValue[], during: 'read' | 'write'): Promise<Row[]> => {
      try {
        return await client.query(numbered(sql), params);
      } catch (err) {
        throw translatePgError(err, during);
      }
    };
    super({
      dialect: PG_DIALECT,
      read: (sql, params) => q(sql, params, 'read'),
      write: async (statements) => {
        const results: Row[][] = [];
        for (const s of statements) results.push(await q(s.sql, s.params, s.reads ? 'read' : 'write'));
        return results;
      },
    });
  }
}
