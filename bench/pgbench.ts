// The naive transaction once more, driven by PostgreSQL's own pgbench: an independent check of
// the naive baseline, with no Node in the loop. One hot account; per transaction
//   BEGIN; SELECT ... FOR UPDATE; UPDATE accounts (allocation first); UPDATE grants (the one drawn
//   from); INSERT INTO ledger_entries; END
// on tokenmeter's schema, so the engine's reconcile checks what pgbench wrote (grants included:
// since credit grants, a draw that leaves its grant untouched is drift).
import { execFile } from 'node:child_process';
import { existsSync, globSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openPgStore } from '../src/store/postgres/open-pg-store.ts';
import { checkDatabase, pgInspector } from './db-inspect.ts';
import { openEngine, seed } from './engine-target.ts';
import { resetLedgerTables, settle } from './pg-database.ts';
import { Latencies } from './stats.ts';
import type { PgbenchResult } from './types.ts';

const OPENING = 4_000_000;

const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** The transaction, drawing from the hot account's included grant while it lasts, then its paid one. */
const script = (grants: { included: number; paid: number }) => `BEGIN;
SELECT allocation AS a, purchased AS p FROM accounts WHERE id = 'hot' FOR UPDATE \\gset
\\set fa least(:a, 1)
\\set fp 1 - :fa
\\set na -1 * :fa
\\set np -1 * :fp
\\set after :a + :p - 1
\\set g CASE WHEN :fa = 1 THEN ${grants.included} ELSE ${grants.paid} END
UPDATE accounts SET allocation = allocation - :fa, purchased = purchased - :fp, used_this_cycle = used_this_cycle + 1, updated_at = ${NOW_MS}, version = version + 1 WHERE id = 'hot' AND allocation + purchased - held >= 1;
UPDATE grants SET remaining = remaining - 1 WHERE id = :g AND remaining >= 1;
INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, feature, quantity, at, grant_moves) VALUES ('hot', 'debit', -1, :na, :np, :after, 'outbound_call_single', 1, ${NOW_MS}, '[[' || :g || ',-1]]');
END;
`;

/** The ids of the hot account's included and paid grants, as the seeding opened them. */
async function hotGrants(url: string): Promise<{ included: number; paid: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; category: string }>(
      "SELECT id, category FROM grants WHERE account_id = 'hot' AND status = 'active'",
    );
    const id = (category: string) => {
      const row = rows.find((r) => r.category === category);
      if (!row) throw new Error(`bench: the hot account has no ${category} grant`);
      return Number(row.id);
    };
    return { included: id('included'), paid: id('paid') };
  } finally {
    await client.end();
  }
}

/** pgbench on PATH or in the PostgreSQL installation, or null. */
export function findPgbench(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'pgbench'))) return join(dir, 'pgbench');
  }
  return globSync('/usr/lib/postgresql/*/bin/pgbench').sort().at(-1) ?? null;
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

export interface PgbenchOptions {
  url: string;
  concurrency: number;
  /** Connections at most (the server's max_connections bounds them). */
  maxClients: number;
  cores: number;
  warmupMs: number;
  durationMs: number;
  dir: string;
}

export async function runPgbench(o: PgbenchOptions): Promise<PgbenchResult> {
  const clients = Math.min(o.concurrency, o.maxClients);
  const threads = Math.min(clients, o.cores);
  const empty = { p50: 0, p99: 0, p999: 0, max: 0 };
  const base = { concurrency: o.concurrency, clients, threads };
  const pgbench = findPgbench();
  if (!pgbench) {
    return {
      ...base,
      ok: false,
      problems: ['pgbench not found'],
      transactions: 0,
      seconds: 0,
      perSecond: 0,
      reportedTps: 0,
      latency: empty,
    };
  }
  await resetLedgerTables(o.url);
  const seeding = openEngine(openPgStore({ url: o.url, poolSize: 2, allowExitOnIdle: true }), false);
  await seed(seeding, [{ account: 'hot', balance: OPENING }]);
  await seeding.close();
  const grants = await hotGrants(o.url);
  await settle(o.url);

  const logDir = join(o.dir, `pgbench-${o.concurrency}`);
  const scriptFile = join(o.dir, 'naive-hot.sql');
  writeFileSync(scriptFile, script(grants));
  mkdirSync(logDir, { recursive: true });
  const seconds = Math.ceil((o.warmupMs + o.durationMs) / 1000);
  const { stdout } = await run(pgbench, [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(clients),
    '-j',
    String(threads),
    '-T',
    String(seconds),
    '-f',
    scriptFile,
    '-l',
    `--log-prefix=${join(logDir, 'tx')}`,
    o.url,
  ]);
  const processed = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? Number.NaN);
  const reportedTps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);

  // Per-transaction log: client, transaction no, latency (µs), script, end time (s, µs).
  const done: { end: number; latency: number }[] = [];
  for (const file of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      done.push({ end: Number(f[4]) * 1e3 + Number(f[5]) / 1e3, latency: Number(f[2]) / 1e3 });
    }
  }
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = 0;
  for (const d of done) {
    firstStart = Math.min(firstStart, d.end - d.latency);
    lastEnd = Math.max(lastEnd, d.end);
  }
  const from = firstStart + o.warmupMs;
  const latencies = new Latencies();
  for (const d of done) if (d.end - d.latency >= from) latencies.add(d.latency);
  const measuredSeconds = (lastEnd - from) / 1000;

  const problems: string[] = [];
  if (done.length !== processed) problems.push(`pgbench logged ${done.length} transactions, reported ${processed}`);
  const ledger = openEngine(openPgStore({ url: o.url, poolSize: 2, allowExitOnIdle: true }), false);
  const db = await pgInspector(o.url);
  try {
    const drift = (await ledger.reconcile()).drift;
    const balances = new Map([['hot', OPENING - processed]]);
    problems.push(...(await checkDatabase(db, { balances, debits: processed }, drift)));
  } finally {
    await db.close();
    await ledger.close();
  }
  return {
    ...base,
    ok: problems.length === 0,
    problems,
    transactions: latencies.count,
    seconds: measuredSeconds,
    perSecond: latencies.count / measuredSeconds,
    reportedTps,
    latency: latencies.summary(),
  };
}
