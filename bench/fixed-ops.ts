// A fixed number of deductions through the engine on SQLite FULL, 256 callers, for comparing the
// CPU two versions spend a deduction: on tmpfs (the default) the disk's flush costs nothing, so
// the figure moves with the code and the CPU, not with the disk's latency, which on this machine
// varies more between runs than most changes weigh. Not a headline figure (`npm run bench` is).
//   node bench/fixed-ops.ts [hot|uniform|zipf|pool] [deductions] [directory]
// prints {workload, deductions, ms, perSecond}.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_GROUP_COMMIT } from '../src/ledger/batch/group-commit-options.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { engineTarget, openEngine, seed } from './engine-target.ts';
import { type WorkloadName, WorkloadStream } from './workloads.ts';

const workload = (process.argv[2] ?? 'hot') as WorkloadName;
const deductions = Number(process.argv[3] ?? 200_000);
const path = join(process.argv[4] ?? '/dev/shm', `fixed-ops-${process.pid}.db`);

const store = new SqliteStore({ path, synchronous: 'FULL' });
await store.migrate();
const ledger = openEngine(store, DEFAULT_GROUP_COMMIT);
const stream = new WorkloadStream(workload, 1);
await seed(ledger, stream.seed);
const target = engineTarget(ledger);

let issued = 0;
const caller = async () => {
  while (issued < deductions) {
    const op = stream.next();
    if (!op) return;
    issued++;
    await target.deduct(op);
  }
};
const started = performance.now();
await Promise.all(Array.from({ length: 256 }, caller));
const ms = performance.now() - started;
await ledger.close();
for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
console.log(
  JSON.stringify({ workload, deductions: issued, ms: Math.round(ms), perSecond: Math.round((issued / ms) * 1000) }),
);
