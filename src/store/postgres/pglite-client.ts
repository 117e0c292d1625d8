import type { PGlite } from '@electric-sql/pglite';
import { Mutex } from '../mutex.ts';
import type { Row } from '../rows.ts';
import type { PgClient, PgParam, PgQueryable } from './pg-client.ts';

// PGlite is one connection: everything on an instance, whichever client issued it, takes turns,
// or a read would run inside another caller's open transaction.
const turns = new WeakMap<PGlite, Mutex>();

function turnsOf(db: PGlite): Mutex {
  let mutex = turns.get(db);
  if (!mutex) {
    mutex = new Mutex();
    turns.set(db, mutex);
  }
  return mutex;
}

export interface PgliteClientOptions {
  db: PGlite;
  /** Close the instance with the client. False when the instance is shared (tests). */
  owned?: boolean;
}

/** In-process PostgreSQL (PGlite): the same SQL path as a server, on one serialized connection. */
export class PgliteClient implements PgClient {
  private readonly db: PGlite;
  private readonly owned: boolean;
  private readonly mutex: Mutex;
  private readonly direct: PgQueryable;

  constructor(options: PgliteClientOptions) {
    this.db = options.db;
    this.owned = options.owned ?? true;
    this.mutex = turnsOf(options.db);
    const db = options.db;
    this.direct = {
      async query(sql, params = []) {
        return (await db.query<Row>(sql, [...params])).rows;
      },
      async exec(sql) {
        await db.exec(sql);
      },
    };
  }

  query(sql: string, params: readonly PgParam[] = []): Promise<Row[]> {
    return this.mutex.run(() => this.direct.query(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.mutex.run(() => this.direct.exec(sql));
  }

  transaction<T>(begin: string, fn: (q: PgQueryable) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      await this.direct.exec(begin);
      try {
        const result = await fn(this.direct);
        await this.direct.exec('COMMIT');
        return result;
      } catch (err) {
        // The first failure is the one to report; a failed rollback adds nothing to it.
        await this.direct.exec('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.owned && !this.db.closed) await this.mutex.run(() => this.db.close());
  }
}
