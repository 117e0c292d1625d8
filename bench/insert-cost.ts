// What one ledger row costs SQLite to insert, by the shape of its idempotency key and by index:
// the group commit's own many-row INSERT (`insertEntries`) on a database made by the real
// migrations, 4 × 256 rows a transaction, on tmpfs (no disk latency: the figure is CPU and
// page traffic). Not a headline figure (`npm run bench` is); for weighing a schema or key change.
//   node bench/insert-cost.ts [--keys random|ordered|none] [--rows 102400] [--accounts 200]
//        [--drop index,...] [--cache-mb N] [--dir /dev/shm]
// prints one line: the options and µs a row (median of --rounds runs, each on a fresh database).
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NewEntry } from '../src/core/entry.ts';
import { newIdempotencyKey } from '../src/sdk/idempotency-key.ts';
import { insertEntries } from '../src/store/sqlite/sqlite-batch-writes.ts';
import { SqliteConnection } from '../src/store/sqlite/sqlite-connection.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { insertRawAccounts, rawDebit } from '../test/helpers/raw-ledger.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: 'random' },
    rows: { type: 'string', default: '102400' },
    accounts: { type: 'string', default: '200' },
    drop: { type: 'string', default: '' },
    'cache-mb': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string', default: '/dev/shm' },
  },
});
const keys = values.keys as 'random' | 'ordered' | 'none';
if (!['random', 'ordered', 'none'].includes(keys)) throw new Error('--keys: random, ordered or none');
const rows = Number(values.rows);
const accounts = Number(values.accounts);
const PER_TRANSACTION = 1024;

function keyFor(i: number, start: number): string | null {
  if (keys === 'none') return null;
  // The SDK's keys (version 7) made 10 a millisecond, or version 4's random ones.
  return keys === 'ordered' ? newIdempotencyKey(start + Math.floor(i / 10)) : randomUUID();
}

async function round(n: number): Promise<number> {
  const path = join(values.dir, `insert-cost-${process.pid}-${n}.db`);
  const store = new SqliteStore({ path, synchronous: 'FULL' });
  await store.migrate();
  await store.close();
  const conn = new SqliteConnection(path, 15_000, 'FULL');
  conn.tempStore('memory');
  if (values['cache-mb']) conn.exec(`PRAGMA cache_size = -${Number(values['cache-mb']) * 1024}`);
  for (const index of values.drop.split(',').filter(Boolean)) conn.exec(`DROP INDEX ${index}`);
  const now = Date.now();
  conn.exec('BEGIN');
  insertRawAccounts(
    conn,
    Array.from({ length: accounts }, (_, a) => `a-${a}`),
    now,
  );
  conn.exec('COMMIT');
  const entries: NewEntry[] = Array.from({ length: rows }, (_, i) =>
    rawDebit({
      id: i + 1,
      account: `a-${(i * 7919) % accounts}`,
      at: now + Math.floor(i / 10),
      key: keyFor(i, now),
      grantMoves: [{ grant: 1, delta: -1 }],
      balanceAfter: 1000,
    }),
  );
  const started = process.hrtime.bigint();
  for (let at = 0; at < rows; at += PER_TRANSACTION) {
    conn.exec('BEGIN');
    insertEntries(conn, entries.slice(at, at + PER_TRANSACTION));
    conn.exec('COMMIT');
  }
  const us = Number(process.hrtime.bigint() - started) / 1000 / rows;
  conn.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  return us;
}

const figures: number[] = [];
for (let n = 0; n < Number(values.rounds); n++) figures.push(await round(n));
console.log(
  JSON.stringify({
    keys,
    rows,
    accounts,
    drop: values.drop || null,
    cacheMb: values['cache-mb'] ?? null,
    usPerRow: Math.round(median(figures) * 100) / 100,
    runs: figures.map((f) => Math.round(f * 100) / 100),
  }),
);
