// `npm run bench`: durable deductions per second through the engine on embedded SQLite
// (synchronous=FULL), with a correctness check after the run. The group-commit benchmark
// with baselines, HTTP and PostgreSQL arrives with the performance issue.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/default-config.ts';
import { parseConfig } from '../src/config/index.ts';
import { TokenLedger } from '../src/ledger/token-ledger.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

const quick = process.argv.includes('--quick');
const total = quick ? 2_000 : 20_000;
const concurrency = 256;
const dir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
const store = new SqliteStore({ path: join(dir, 'bench.db') });
await store.migrate();
const ledger = new TokenLedger({ store, catalog: parseConfig(defaultConfig(), 'default') });
await ledger.adjust({ account: 'hot', setBalance: total, reason: 'bench', actor: 'bench' });

let next = 0;
let accepted = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      const r = await ledger.deduct({ account: 'hot', feature: 'outbound_call_single' });
      if (r.ok) accepted++;
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const view = await ledger.getBalance('hot');
const report = await ledger.reconcile();
await ledger.close();
rmSync(dir, { recursive: true, force: true });

const ok = accepted === total && view.balance === 0 && report.drift.length === 0;
if (!ok) {
  console.error(`bench: correctness check FAILED (accepted ${accepted}/${total}, balance ${view.balance})`);
  process.exit(1);
}
console.log(
  `engine, sqlite synchronous=FULL, one hot account, ${concurrency} concurrent callers: ` +
    `${Math.round(total / seconds)} deductions/s (${total} in ${seconds.toFixed(2)} s; ${cpus().length} cores, Node ${process.version})`,
);
