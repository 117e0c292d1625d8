// How long the operator's reads that scan the ledger hold the thread that answers requests: on
// a ledger of N entries over a year (1,000 accounts), each read's time and the longest gap
// between the ticks of a 1 ms timer on the calling thread, for the in-thread store (every read
// on this thread, as `TOKENMETER_SQLITE_WORKER=off`) and the default worker store (reads that
// scan on its reader thread). The ledger is made once per size and kept in --dir. Also the
// features in use, which every open of a ledger reads (through an index since migration 15).
//   node bench/read-stall.ts [--entries 1000000] [--dir /dev/shm]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NewEntry } from '../src/core/entry.ts';
import { insertEntries } from '../src/store/sqlite/sqlite-batch-writes.ts';
import { SqliteConnection } from '../src/store/sqlite/sqlite-connection.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../src/store/sqlite/worker-store.ts';
import type { Store } from '../src/store/store.ts';
import { insertRawAccounts, rawDebit } from '../test/helpers/raw-ledger.ts';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    dir: { type: 'string', default: '/dev/shm' },
  },
});
const entries = Number(values.entries);
const path = join(values.dir, `read-stall-${entries}.db`);
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 1);
const START = END - 365 * DAY;
const ACCOUNTS = 1000;
const FEATURES = ['outbound_call_single', 'crm_ai_agent', 'business_collector', 'social_post', 'prospect_manager'];
const CHUNK = 1024;

async function build(): Promise<void> {
  const store = new SqliteStore({ path });
  await store.migrate();
  await store.close();
  const conn = new SqliteConnection(path, 15_000, 'NORMAL');
  conn.tempStore('memory');
  conn.exec('BEGIN');
  insertRawAccounts(
    conn,
    Array.from({ length: ACCOUNTS }, (_, a) => `a-${a}`),
    START,
  );
  conn.exec('COMMIT');
  for (let first = 0; first < entries; first += CHUNK) {
    const chunk: NewEntry[] = Array.from({ length: Math.min(CHUNK, entries - first) }, (_, j) => {
      const i = first + j;
      return rawDebit({
        id: i + 1,
        account: `a-${(i * 7919) % ACCOUNTS}`,
        at: START + Math.floor((i / entries) * 365 * DAY),
        feature: FEATURES[i % FEATURES.length],
      });
    });
    conn.exec('BEGIN');
    insertEntries(conn, chunk);
    conn.exec('COMMIT');
  }
  conn.close();
}

/** `read`'s time, and the longest this thread went without running a 1 ms timer meanwhile. */
async function stall(read: () => Promise<unknown>): Promise<{ ms: number; longestGapMs: number }> {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  await read();
  const ended = performance.now();
  clearInterval(tick);
  longest = Math.max(longest, ended - last);
  return { ms: Math.round(ended - started), longestGapMs: Math.round(longest * 10) / 10 };
}

const READS: Record<string, (store: Store) => Promise<unknown>> = {
  reconcile: (s) => s.reconcile(),
  'usage by day, 30 days, every account': (s) => s.service.usageByDay(END - 30 * DAY, END),
  'usage by account, 30 days': (s) => s.service.usageByAccount(END - 30 * DAY, END, 10),
  // What every open of a ledger reads, to check its config still configures them.
  'features in use': (s) => s.inUse(),
};

if (!existsSync(path)) {
  console.log(`making ${path}: ${entries.toLocaleString('en-US')} entries`);
  await build();
}
for (const [name, open] of [
  ['in-thread store', () => new SqliteStore({ path })],
  ['worker store', () => new SqliteWorkerStore({ path })],
] as const) {
  const store: Store = open();
  try {
    for (const [read, run] of Object.entries(READS)) {
      console.log(JSON.stringify({ store: name, read, ...(await stall(() => run(store))) }));
    }
  } finally {
    await store.close();
  }
}
