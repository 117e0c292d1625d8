// One in-process run in a process of its own (so its memory and JIT state are its own):
//   node bench/in-process.ts '<InProcessSpec as JSON>'
// prints the InProcessResult as the last line of stdout.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_GROUP_COMMIT, type GroupCommitStats } from '../src/ledger/batch/group-commit-options.ts';
import type { TokenLedger } from '../src/ledger/token-ledger.ts';
import { openPgStore } from '../src/store/postgres/open-pg-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { checkDatabase, type DbInspector, pgInspector, sqliteInspector } from './db-inspect.ts';
import { type DeductTarget, drive } from './drive.ts';
import { batchStats, engineTarget, openEngine, seed } from './engine-target.ts';
import { naivePg } from './naive-pg.ts';
import { naiveSqlite } from './naive-sqlite.ts';
import { resetLedgerTables, settle, walBytes } from './pg-database.ts';
import { bytesWritten, peakRssMb, perEach } from './stats.ts';
import { compareWithModel } from './tally.ts';
import type { BatchFigures, InProcessResult, InProcessSpec } from './types.ts';
import { WorkloadStream } from './workloads.ts';

const spec = JSON.parse(process.argv[2] ?? '') as InProcessSpec;
const groupCommit = spec.impl === 'engine' ? DEFAULT_GROUP_COMMIT : false;
const stream = new WorkloadStream(spec.workload, spec.seed);

let ledger: TokenLedger;
let target: DeductTarget & { close?: () => Promise<void> };
let inspect: () => Promise<DbInspector>;
let cleanup = () => {};
// What the run writes: SQLite's file writes are this process's own; PostgreSQL's are the server's.
let written = async (): Promise<number | null> => bytesWritten();

if (spec.store === 'pg') {
  const url = spec.pgUrl;
  if (!url) throw new Error('bench: a PostgreSQL run needs pgUrl');
  await resetLedgerTables(url);
  const store = openPgStore({ url, poolSize: spec.pgPool ?? 10, allowExitOnIdle: true });
  ledger = openEngine(store, groupCommit);
  await seed(ledger, stream.seed);
  await settle(url);
  target = spec.impl === 'naive' ? naivePg(url, spec.pgPool ?? 10) : engineTarget(ledger);
  inspect = () => pgInspector(url);
  written = () => walBytes(url);
} else {
  const path = join(spec.dir, `${spec.store}-${spec.impl}-${spec.workload}-${spec.concurrency}.db`);
  const synchronous = spec.store === 'sqlite-full' ? 'FULL' : 'NORMAL';
  const store = new SqliteStore({ path, synchronous });
  await store.migrate();
  ledger = openEngine(store, groupCommit);
  await seed(ledger, stream.seed);
  target = spec.impl === 'naive' ? naiveSqlite({ path, synchronous }) : engineTarget(ledger);
  inspect = async () => sqliteInspector(path);
  cleanup = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  };
}

let before: GroupCommitStats = batchStats(ledger);
let writtenAtStart: Promise<number | null> = Promise.resolve(null);
const run = await drive(stream, target, {
  concurrency: spec.concurrency,
  warmupMs: spec.warmupMs,
  durationMs: spec.durationMs,
  onMeasureStart: () => {
    before = batchStats(ledger);
    writtenAtStart = written();
  },
});
const after = batchStats(ledger);
const bytesPerDeduction = perEach(await writtenAtStart, await written(), run.measured);
await target.close?.();

const model = stream.expectation;
const problems = compareWithModel(run.tally, model);
const db = await inspect();
try {
  const drift = (await ledger.reconcile()).drift;
  problems.push(...(await checkDatabase(db, { balances: model.balances(), debits: model.debits() }, drift)));
} finally {
  await db.close();
  await ledger.close();
  cleanup();
}

const batches = after.batches - before.batches;
const operations = after.operations - before.operations;
const batch: BatchFigures | null =
  spec.impl === 'engine'
    ? {
        batches,
        operations,
        average: batches === 0 ? 0 : Math.round((operations / batches) * 10) / 10,
        largest: after.largestBatch,
        rejected: after.rejected,
        splits: after.splits,
      }
    : null;
const answered = model.issued;
const result: InProcessResult = {
  spec,
  ok: problems.length === 0,
  problems,
  measured: run.measured,
  seconds: run.seconds,
  perSecond: run.perSecond,
  latency: run.latency,
  refusedShare: run.tally.total('refused') / Math.max(1, answered),
  replayedShare: run.tally.total('replayed') / Math.max(1, answered),
  batch,
  peakRssMb: peakRssMb(),
  bytesPerDeduction,
  exhausted: run.exhausted,
  groupCommit: spec.impl === 'naive' ? null : groupCommit,
};
console.log(JSON.stringify(result));
