// `node bench/pg-driver.ts`: node-postgres (`pg`) against postgres.js (`postgres`) on the
// transaction every tokenmeter write is made of, to choose the PostgreSQL driver by measurement:
//
//   BEGIN; SELECT ... FROM accounts WHERE id = $1 FOR UPDATE; UPDATE accounts ... WHERE balance >= $2;
//   INSERT INTO ledger ...; COMMIT
//
// on a fresh throwaway database (`tm_bench_<random>`, created and dropped) on the PostgreSQL
// server named by TOKENMETER_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres.
// Scenarios: 1 caller; 32 callers spread over 1,000 accounts; 32 callers on one hot account.
// Each scenario runs every contender in turn, several rounds, and reports the median tx/s.
// The engine itself (TokenLedger on the PostgreSQL store, over `pg`) runs the same scenarios,
// then 1, 2 and 4 processes of it (each its own pool, as API processes behind a load balancer);
// a last scenario kills every connection of the database mid-stream (pg_terminate_backend, only
// this database's backends) to see how each driver's pool fails and recovers, one process each.
// Every run is checked: ledger rows against balances (reconcile, for the engine).
//
// postgres.js is not a dependency of tokenmeter: install it outside the repository first,
//   npm install --prefix /tmp/pgjs postgres
// (or pass --pgjs <prefix>). Options: --transactions N (default 3000), --rounds N (default 3),
// --only processes|failure (one part), --json (the figures as one JSON line at the end).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { defaultConfig } from '../src/config/default-config.ts';
import { parseConfig } from '../src/config/index.ts';
import { TokenLedger } from '../src/ledger/token-ledger.ts';
import { openPgStore } from '../src/store/postgres/open-pg-store.ts';
import { resetLedgerTables } from './pg-database.ts';

const SERVER_URL = process.env.TOKENMETER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const TRANSACTIONS = Number(option('transactions', '3000'));
const ROUNDS = Number(option('rounds', '3'));
const PGJS_PREFIX = option('pgjs', '/tmp/pgjs');
const ACCOUNTS = 1000;
const SEED_BALANCE = 1_000_000_000;

// --- postgres.js, loaded by path (not a dependency), typed by the little this bench uses --------
type Rows = readonly Record<string, unknown>[];
type Tag = (strings: TemplateStringsArray, ...values: readonly (string | number)[]) => Promise<Rows>;
interface PgJs extends Tag {
  begin<T>(fn: (tx: Tag) => Promise<T>): Promise<T>;
  end(options?: { timeout?: number }): Promise<void>;
}
type PgJsFactory = (url: string, options: { max: number; onnotice?: () => void }) => PgJs;

async function loadPgJs(): Promise<{ factory: PgJsFactory; version: string }> {
  const dir = join(PGJS_PREFIX, 'node_modules', 'postgres');
  const entry = join(dir, 'src', 'index.js');
  if (!existsSync(entry)) {
    throw new Error(`postgres.js not found at ${dir}: npm install --prefix ${PGJS_PREFIX} postgres (outside the repo)`);
  }
  const mod = (await import(pathToFileURL(entry).href)) as { default: PgJsFactory };
  const pkg = (await import(pathToFileURL(join(dir, 'package.json')).href, { with: { type: 'json' } })) as {
    default: { version: string };
  };
  return { factory: mod.default, version: pkg.default.version };
}

// --- the transaction, once per contender ------------------------------------------------------
const LOCK = 'SELECT balance FROM bench_accounts WHERE id = $1 FOR UPDATE';
const UPDATE =
  'UPDATE bench_accounts SET balance = balance - $2, version = version + 1 WHERE id = $1 AND balance >= $2 RETURNING balance';
const INSERT = 'INSERT INTO bench_ledger (account_id, amount, balance_after, key, at) VALUES ($1, $2, $3, $4, $5)';

/** One deduction of `amount` from `account`; resolves when committed. */
type Deduct = (account: string, amount: number, key: string) => Promise<void>;

interface Contender {
  name: string;
  /** Opens its pool of `size` connections on `url`. */
  open(url: string, size: number): Promise<{ deduct: Deduct; close(): Promise<void>; check?(): Promise<void> }>;
}

/** node-postgres as tokenmeter's store uses it: a Pool, one checked-out client per transaction. */
function pgContender(named: boolean): Contender {
  return {
    name: named ? 'pg, named statements' : 'pg (as the store uses it)',
    async open(url, size) {
      const pool = new pg.Pool({ connectionString: url, max: size });
      pool.on('error', () => {});
      const q = (name: string, text: string) => (named ? { name, text } : { text });
      const deduct: Deduct = async (account, amount, key) => {
        const client = await pool.connect();
        let broken: Error | undefined;
        // As the store does: without it, a connection killed while checked out crashes the process.
        const onError = (err: Error) => {
          broken ??= err;
        };
        client.on('error', onError);
        try {
          await client.query('BEGIN');
          await client.query({ ...q('lock', LOCK), values: [account] });
          const updated = await client.query<{ balance: string }>({
            ...q('update', UPDATE),
            values: [account, amount],
          });
          const balance = updated.rows[0]?.balance;
          if (balance === undefined) throw new Error(`bench: ${account} would overdraw`);
          await client.query({ ...q('insert', INSERT), values: [account, -amount, balance, key, Date.now()] });
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch((e: unknown) => {
            broken ??= e instanceof Error ? e : new Error(String(e));
          });
          throw err;
        } finally {
          client.off('error', onError);
          client.release(broken);
        }
      };
      return { deduct, close: () => pool.end() };
    },
  };
}

function pgJsContender(factory: PgJsFactory, version: string): Contender {
  return {
    name: `postgres.js ${version}`,
    async open(url, size) {
      const sql = factory(url, { max: size, onnotice: () => {} });
      const deduct: Deduct = async (account, amount, key) => {
        await sql.begin(async (tx) => {
          await tx`SELECT balance FROM bench_accounts WHERE id = ${account} FOR UPDATE`;
          const [row] =
            await tx`UPDATE bench_accounts SET balance = balance - ${amount}, version = version + 1 WHERE id = ${account} AND balance >= ${amount} RETURNING balance`;
          const balance = row?.balance;
          if (typeof balance !== 'string') throw new Error(`bench: ${account} would overdraw`);
          await tx`INSERT INTO bench_ledger (account_id, amount, balance_after, key, at) VALUES (${account}, ${-amount}, ${balance}, ${key}, ${Date.now()})`;
        });
      };
      return { deduct, close: () => sql.end({ timeout: 5 }) };
    },
  };
}

/** The whole engine: TokenLedger.deduct with an idempotency key, on the PostgreSQL store (pg). */
const engineContender: Contender = {
  name: 'tokenmeter engine (pg store)',
  async open(url, size) {
    const store = openPgStore({ url, poolSize: size, allowExitOnIdle: true });
    await store.migrate();
    const ledger = new TokenLedger({ store, catalog: parseConfig(defaultConfig(), 'default') });
    const deduct: Deduct = async (account, amount, key) => {
      const r = await ledger.deduct({
        account,
        feature: 'outbound_call_single',
        quantity: amount,
        idempotencyKey: key,
      });
      if (!r.ok) throw new Error(`bench: ${account} refused: ${r.message}`);
    };
    const check = async () => {
      const report = await ledger.reconcile();
      if (report.drift.length > 0)
        throw new Error(`bench: engine correctness check FAILED: ${JSON.stringify(report.drift[0])}`);
    };
    return { deduct, close: () => ledger.close(), check };
  },
};

// --- the database -----------------------------------------------------------------------------
const SCHEMA = `
CREATE TABLE bench_accounts (id text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0),
  version bigint NOT NULL DEFAULT 1);
CREATE TABLE bench_ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL REFERENCES bench_accounts (id), amount bigint NOT NULL, balance_after bigint NOT NULL,
  key text NOT NULL UNIQUE, at bigint NOT NULL);`;

async function resetTables(admin: pg.Client): Promise<void> {
  await admin.query('TRUNCATE bench_ledger, bench_accounts');
  await admin.query(
    `INSERT INTO bench_accounts (id, balance) SELECT 'acct-' || g, $1 FROM generate_series(0, $2) g`,
    [SEED_BALANCE, ACCOUNTS], // acct-0 .. acct-999, and acct-1000 as the hot one
  );
}

/** The engine's own tables: emptied, accounts opened with the same balance. */
async function resetEngine(url: string): Promise<void> {
  const store = openPgStore({ url, poolSize: 1, allowExitOnIdle: true });
  await store.migrate();
  await store.close();
  await resetLedgerTables(url);
  const ledger = new TokenLedger({
    store: openPgStore({ url, poolSize: 4, allowExitOnIdle: true }),
    catalog: parseConfig(defaultConfig(), 'default'),
  });
  const ids = Array.from({ length: ACCOUNTS + 1 }, (_, i) => `acct-${i}`);
  for (let i = 0; i < ids.length; i += 50) {
    await Promise.all(
      ids
        .slice(i, i + 50)
        .map((account) => ledger.adjust({ account, setBalance: SEED_BALANCE, reason: 'bench', actor: 'bench' })),
    );
  }
  await ledger.close();
}

// --- running a scenario -----------------------------------------------------------------------
interface Scenario {
  name: string;
  concurrency: number;
  hot: boolean;
}
const SCENARIOS: Scenario[] = [
  { name: '1 caller', concurrency: 1, hot: false },
  { name: '32 callers, 1,000 accounts', concurrency: 32, hot: false },
  { name: '32 callers, one hot account', concurrency: 32, hot: true },
];

let seed = 20_260_115;
function random(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return Math.abs(seed) % n;
}

let keys = 0;
/** Runs `count` deductions through `deduct` from `concurrency` callers; returns seconds and failures. */
async function drive(
  deduct: Deduct,
  count: number,
  concurrency: number,
  hot: boolean,
  onAck?: (n: number) => void,
): Promise<{ seconds: number; failures: unknown[]; acks: number }> {
  let next = 0;
  let acks = 0;
  const failures: unknown[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const account = hot ? `acct-${ACCOUNTS}` : `acct-${random(ACCOUNTS)}`;
        try {
          await deduct(account, 1 + random(5), `k${keys++}`);
          acks++;
          onAck?.(acks);
        } catch (err) {
          failures.push(err);
        }
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failures, acks };
}

/** The bench tables agree with what was acknowledged: every ledger row matches a balance change. */
async function checkBench(admin: pg.Client, acks: number): Promise<void> {
  const { rows } = await admin.query<{ n: string; moved: string; left: string }>(
    `SELECT (SELECT count(*) FROM bench_ledger) AS n, (SELECT coalesce(-sum(amount), 0) FROM bench_ledger) AS moved,
            (SELECT sum(balance) FROM bench_accounts) AS left`,
  );
  const r = rows[0];
  const seeded = SEED_BALANCE * (ACCOUNTS + 1);
  if (!r || Number(r.n) < acks || Number(r.moved) !== seeded - Number(r.left)) {
    throw new Error(`bench: correctness check FAILED: ${JSON.stringify(r)} after ${acks} acknowledged`);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\d+\.\d+\.\d+\.\d+:\d+/, 'host').slice(0, 90);
}

// --- the failure scenario, one child process per driver (a driver bug may crash its process) --
/** Kills every connection of the database after `killAt` acknowledgements; prints one JSON line. */
async function failureChild(contender: Contender, url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await resetTables(admin);
  const handle = await contender.open(url, 32);
  const killAt = Math.floor(TRANSACTIONS / 3);
  let killed: Promise<unknown> | undefined;
  const run = await drive(handle.deduct, TRANSACTIONS, 32, false, (n) => {
    if (n === killAt) {
      killed = admin.query(
        'SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    }
  });
  await killed;
  const after = await drive(handle.deduct, 200, 32, false);
  await checkBench(admin, run.acks + after.acks);
  await handle.close();
  await admin.end();
  const kinds: Record<string, number> = {};
  for (const f of run.failures) kinds[describeError(f)] = (kinds[describeError(f)] ?? 0) + 1;
  console.log(
    JSON.stringify({
      acks: run.acks,
      failed: run.failures.length,
      kinds,
      after: after.acks,
      afterFailed: after.failures.length,
    }),
  );
}

function runFailureChild(index: number, url: string): Promise<string> {
  const args = [import.meta.filename, '--failure-child', String(index), '--url', url, '--pgjs', PGJS_PREFIX];
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, '--transactions', String(TRANSACTIONS)], (err, stdout, stderr) => {
      if (!err) {
        const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
          acks: number;
          failed: number;
          kinds: Record<string, number>;
          after: number;
          afterFailed: number;
        };
        const kinds = Object.entries(r.kinds).map(([m, n]) => `${n}× "${m}"`);
        resolve(
          `${r.acks} committed, ${r.failed} failed with an error (${kinds.join(', ')}); then ${r.after}/200 served`,
        );
        return;
      }
      const line = stderr.split('\n').find((l) => /Error/.test(l)) ?? err.message;
      resolve(`PROCESS CRASHED (exit ${err.code ?? '?'}): ${line.trim()}`);
    });
  });
}

// --- the engine across processes: each its own pool, as API processes behind a load balancer --
/** Child: opens the engine, says "ready", on "go" runs `count` deductions from 32 callers, prints ms. */
async function engineWorker(url: string, count: number): Promise<void> {
  const handle = await engineContender.open(url, 8);
  const lines = createInterface({ input: process.stdin });
  console.log('ready');
  for await (const line of lines) {
    if (line.trim() !== 'go') continue;
    keys = process.pid * 1_000_000; // keys unique across workers
    const run = await drive(handle.deduct, count, 32, false);
    if (run.failures.length > 0) throw new Error(describeError(run.failures[0]));
    console.log(JSON.stringify({ ms: run.seconds * 1000 }));
    break;
  }
  lines.close();
  await handle.close();
}

/** Engine deductions per second with `processes` processes sharing `total` deductions (wall time). */
async function acrossProcesses(url: string, processes: number, total: number): Promise<number> {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [
      import.meta.filename,
      '--engine-worker',
      String(Math.floor(total / processes)),
      '--url',
      url,
      '--pgjs',
      PGJS_PREFIX,
    ]),
  );
  const ready = children.map(
    (c) =>
      new Promise<void>((resolve, reject) => {
        c.stdout.once('data', () => resolve());
        c.once('exit', (code) => reject(new Error(`engine worker exited ${code}`)));
      }),
  );
  const done = children.map(
    (c) =>
      new Promise<void>((resolve, reject) => {
        let stderr = '';
        c.stderr.on('data', (d) => {
          stderr += String(d);
        });
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`engine worker exited ${code}: ${stderr}`))));
      }),
  );
  await Promise.all(ready);
  const started = performance.now();
  for (const c of children) c.stdin.end('go\n');
  await Promise.all(done);
  return (Math.floor(total / processes) * processes) / ((performance.now() - started) / 1000);
}

// --- main -------------------------------------------------------------------------------------
const pgjs = await loadPgJs();
const pgVersion = (await import('pg/package.json', { with: { type: 'json' } })).default.version;
const contenders: Contender[] = [pgContender(false), pgContender(true), pgJsContender(pgjs.factory, pgjs.version)];

const childIndex = process.argv.indexOf('--failure-child');
if (childIndex >= 0) {
  const contender = contenders[Number(process.argv[childIndex + 1])];
  if (!contender) throw new Error('--failure-child: no such contender');
  await failureChild(contender, option('url', ''));
  process.exit(0);
}
const workerIndex = process.argv.indexOf('--engine-worker');
if (workerIndex >= 0) {
  await engineWorker(option('url', ''), Number(process.argv[workerIndex + 1]));
  process.exit(0);
}

const serverAdmin = new pg.Client({ connectionString: SERVER_URL });
await serverAdmin.connect();
const dbName = `tm_bench_${randomBytes(4).toString('hex')}`;
await serverAdmin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(SERVER_URL);
dbUrl.pathname = `/${dbName}`;
const url = dbUrl.toString();
const admin = new pg.Client({ connectionString: url });
admin.on('error', () => {}); // a dropped connection also fails the query in flight, which reports it
try {
  await admin.connect();
  await admin.query(SCHEMA);
  const settings = await admin.query<{ v: string; s: string; f: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS s, current_setting('fsync') AS f`,
  );
  const server = settings.rows[0];
  console.log(
    `PostgreSQL ${server?.v} (synchronous_commit=${server?.s}, fsync=${server?.f}) at ${dbUrl.host}, database ${dbName}; ` +
      `pg ${pgVersion}, postgres.js ${pgjs.version}; ` +
      `Node ${process.version}, ${cpus().length} cores; ${TRANSACTIONS} transactions per run, median of ${ROUNDS} rounds; pool size = callers`,
  );

  const results: { scenario: string; contender: string; txPerSecond: number; runs: number[] }[] = [];
  const only = option('only', '');
  for (const scenario of SCENARIOS) {
    if (only === 'failure' || only === 'processes') break;
    const runs = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const contender of [...contenders, engineContender]) {
        if (contender === engineContender) await resetEngine(url);
        else await resetTables(admin);
        const handle = await contender.open(url, scenario.concurrency);
        try {
          await drive(handle.deduct, 100, scenario.concurrency, scenario.hot); // warm up: connections, plans
          const run = await drive(handle.deduct, TRANSACTIONS, scenario.concurrency, scenario.hot);
          if (run.failures.length > 0) throw new Error(`${contender.name}: ${describeError(run.failures[0])}`);
          if (handle.check) await handle.check();
          else await checkBench(admin, run.acks + 100);
          const list = runs.get(contender.name) ?? [];
          list.push(TRANSACTIONS / run.seconds);
          runs.set(contender.name, list);
        } finally {
          await handle.close();
        }
      }
    }
    for (const [contender, list] of runs) {
      results.push({
        scenario: scenario.name,
        contender,
        txPerSecond: Math.round(median(list)),
        runs: list.map(Math.round),
      });
    }
    console.log(`\n${scenario.name}:`);
    for (const r of results.filter((x) => x.scenario === scenario.name)) {
      console.log(
        `  ${r.contender.padEnd(32)} ${String(r.txPerSecond).padStart(6)} tx/s   (rounds: ${r.runs.join(', ')})`,
      );
    }
  }

  if (only === '' || only === 'processes')
    console.log(
      `\nengine across processes (each with a pool of 8 and 32 callers; ${TRANSACTIONS} deductions on 1,000 accounts):`,
    );
  for (const processes of only === '' || only === 'processes' ? [1, 2, 4] : []) {
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await resetEngine(url);
      rates.push(await acrossProcesses(url, processes, TRANSACTIONS));
    }
    const rate = Math.round(median(rates));
    results.push({
      scenario: 'engine across processes',
      contender: `${processes} process${processes > 1 ? 'es' : ''}`,
      txPerSecond: rate,
      runs: rates.map(Math.round),
    });
    console.log(
      `  ${`${processes} process${processes > 1 ? 'es' : ''}`.padEnd(32)} ${String(rate).padStart(6)} tx/s   (rounds: ${rates.map(Math.round).join(', ')})`,
    );
  }

  if (only === '' || only === 'processes') {
    // What the ledger costs on disk, per row with its indexes (after the last run above).
    const { rows } = await admin.query<{ t: string; n: string; bytes: string }>(
      `SELECT t, (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM ' || t, false, true, '')))[1]::text AS n,
              pg_total_relation_size(t)::text AS bytes
       FROM unnest(ARRAY['ledger_entries', 'idempotency_keys', 'accounts']) t`,
    );
    const sizes = rows.map(
      (r) => `${r.t} ${Math.round(Number(r.bytes) / Math.max(1, Number(r.n)))} B/row (${r.n} rows)`,
    );
    console.log(`  storage, with indexes: ${sizes.join(', ')}`);
  }

  // Every connection of this database killed mid-stream: what each pool does, and whether it serves again.
  // This process's own connection to it would be killed too: close it first.
  await admin.end();
  if (only === '' || only === 'failure')
    console.log(
      `\nfailure: every backend of the database terminated after ${Math.floor(TRANSACTIONS / 3)} of ${TRANSACTIONS} ` +
        'transactions (32 callers), then 200 more; each driver in its own process:',
    );
  for (const [index, contender] of only === '' || only === 'failure' ? contenders.entries() : []) {
    console.log(`  ${contender.name.padEnd(32)} ${await runFailureChild(index, url)}`);
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
} finally {
  await admin.end().catch(() => {});
  await serverAdmin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await serverAdmin.end();
}
