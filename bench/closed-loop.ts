// A single point without the harness: N callers in a closed loop of `TokenLedger.deduct` on
// one store, optionally without idempotency keys (the harness keys 75% of its operations), with
// the same kind of check afterwards (exact count charged, exact balances, clean reconcile).
//
//   node bench/closed-loop.ts [--store sqlite|sqlite-inline|pg] [--callers 256] [--accounts 1] [--total 100000] [--keyed]
//        [--callgrind-dump]   (under callgrind, for bench/instructions.ts: the loop's counts apart from the check's)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { defaultConfig } from '../src/config/default-config.ts';
import { parseConfig } from '../src/config/index.ts';
import { TokenLedger } from '../src/ledger/token-ledger.ts';
import { openPgStore } from '../src/store/postgres/open-pg-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../src/store/sqlite/worker-store.ts';
import type { Store } from '../src/store/store.ts';
import { createBenchDatabase } from './pg-database.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    callers: { type: 'string', default: '256' },
    accounts: { type: 'string', default: '1' },
    total: { type: 'string', default: '100000' },
    keyed: { type: 'boolean', default: false },
    'callgrind-dump': { type: 'boolean', default: false },
  },
});
const callers = Number(values.callers);
const accounts = Number(values.accounts);
const total = Number(values.total);
const perAccount = Math.ceil(total / accounts);

let store: Store;
let cleanup: () => Promise<void>;
if (values.store === 'pg') {
  const db = await createBenchDatabase();
  store = openPgStore({ url: db.url, poolSize: 32 });
  cleanup = () => db.drop();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'tm-closed-loop-'));
  const path = join(dir, 'bench.db');
  // sqlite: the writer on its worker thread (the default); sqlite-inline: on this thread.
  store = values.store === 'sqlite-inline' ? new SqliteStore({ path }) : new SqliteWorkerStore({ path });
  cleanup = async () => rmSync(dir, { recursive: true, force: true });
}
await store.migrate();
const ledger = new TokenLedger({ store, catalog: parseConfig(defaultConfig(), 'built-in default') });
const ids = Array.from({ length: accounts }, (_, i) => `acct-${i}`);
// Exactly enough tokens for every deduction the loop sends to its account: all must be charged.
const sent = new Map<string, number>();
for (let i = 0; i < total; i++) {
  const id = ids[i % accounts] as string;
  sent.set(id, (sent.get(id) ?? 0) + 1);
}
for (const id of ids) {
  await ledger.adjust({ account: id, setBalance: sent.get(id) ?? 0, reason: 'bench', actor: 'bench' });
}

/** Asks callgrind (which runs this process) to write its counts so far, then count afresh. */
async function dumpCallgrind(): Promise<void> {
  await promisify(execFile)('callgrind_control', ['--dump=loop', String(process.pid)]);
}

let next = 0;
let charged = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: callers }, async () => {
    while (next < total) {
      const i = next++;
      const r = await ledger.deduct({
        account: ids[i % accounts] as string,
        feature: 'outbound_call_single',
        ...(values.keyed ? { idempotencyKey: `k-${i}` } : {}),
      });
      if (r.ok) charged++;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
// Under bench/instructions.ts: callgrind writes what the run counted so far (start-up, seeding and
// the loop) to a file of its own and counts the check below apart, since the check's reads (a
// sort of every ledger row among them) grow with the number of deductions and would not cancel.
if (values['callgrind-dump']) await dumpCallgrind();

const problems: string[] = [];
if (charged !== total) problems.push(`charged ${charged} of ${total}`);
for (const id of ids) {
  const balance = (await ledger.getBalance(id)).balance;
  if (balance !== 0) problems.push(`${id} ends at ${balance}, not 0`);
}
const drift = (await ledger.reconcile()).drift;
if (drift.length > 0) problems.push(`reconcile: ${drift.length} drift rows`);
const stats = ledger.groupCommitStats();
await ledger.close();
await cleanup();

const label = `${values.store} ${accounts === 1 ? 'one hot account' : `${accounts} accounts`}, ${callers} callers, ${values.keyed ? 'keyed' : 'no keys'}`;
if (problems.length > 0) {
  console.error(`${label}: FAILED: ${problems.slice(0, 5).join('; ')}`);
  process.exit(1);
}
console.log(
  `${label}: ${Math.round(total / seconds).toLocaleString('en-US')} deductions/s ` +
    `(${total} in ${seconds.toFixed(2)} s; ${stats.batches} batches, largest ${stats.largestBatch}; ` +
    `${perAccount} per account)`,
);
