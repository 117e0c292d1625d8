// A separate process that hammers one database, for the cross-process concurrency tests: a
// SQLite file (target: its path) or PostgreSQL (target: a postgres:// URL; its own pool). It
// opens its own store (migrating, so several processes start at once), says "ready", waits for
// "go" on stdin, fires its whole workload at once, and prints one JSON summary line.
import { createInterface } from 'node:readline';
import { defaultConfig } from '../../src/config/default-config.ts';
import { parseConfig } from '../../src/config/index.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const [target, mode, countText, seedText, poolText] = process.argv.slice(2);
if (!target || !mode || !countText) {
  throw new Error('usage: ledger-worker <sqlite-file | postgres-url> <deduct|mixed|spread> <count> [seed] [pool]');
}
const count = Number(countText);
let seed = Number(seedText ?? 1);
const random = (n: number) => {
  // xorshift: deterministic per worker, so a failure can be replayed with the same seed
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return Math.abs(seed) % n;
};

// Each worker queues hundreds of operations on a small pool at once: let them wait their turn
// (this test is about correctness, and a loaded CI machine is slow).
const store = /^postgres(ql)?:\/\//.test(target)
  ? openPgStore({ url: target, poolSize: Number(poolText ?? 8), connectTimeoutMs: 120_000 })
  : new SqliteStore({ path: target });
await store.migrate();
const ledger = new TokenLedger({ store, catalog: parseConfig(defaultConfig(), 'default') });

const summary = {
  accepted: 0,
  refused: 0,
  charged: 0,
  minAvailable: Number.POSITIVE_INFINITY,
  errors: [] as string[],
  /** spread mode: tokens charged per account. */
  perAccount: {} as Record<string, number>,
};
const seen = (available: number) => {
  summary.minAvailable = Math.min(summary.minAvailable, available);
};

async function oneDeduct(): Promise<void> {
  const r = await ledger.deduct({ account: 'hot', feature: 'outbound_call_single' });
  seen(r.available);
  if (r.ok) {
    summary.accepted++;
    summary.charged += r.cost;
  } else summary.refused++;
}

async function oneMixed(): Promise<void> {
  if (random(2) === 0) return oneDeduct();
  const h = await ledger.reserve({ account: 'hot', amount: 1 + random(5) });
  seen(h.available);
  if (!h.ok) {
    summary.refused++;
    return;
  }
  const settle = random(3) === 0 ? await ledger.releaseHold(h.holdId) : await ledger.commitHold(h.holdId, random(9));
  seen(settle.available);
  if (settle.ok) {
    summary.accepted++;
    summary.charged += settle.charged;
  } else summary.errors.push(settle.message);
}

/** A random amount on one of 1,000 accounts, each provisioned by its first use. */
async function oneSpread(): Promise<void> {
  const account = `acct-${random(1000)}`;
  const r = await ledger.deduct({ account, feature: 'outbound_call_single', quantity: 1 + random(80) });
  seen(r.available);
  if (r.ok) {
    summary.accepted++;
    summary.charged += r.cost;
    summary.perAccount[account] = (summary.perAccount[account] ?? 0) + r.cost;
  } else summary.refused++;
}

const workloads: Record<string, () => Promise<void>> = { deduct: oneDeduct, mixed: oneMixed, spread: oneSpread };
const one = workloads[mode];
if (!one) throw new Error(`unknown mode ${mode}`);

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  const work = Array.from({ length: count }, () => one());
  const results = await Promise.allSettled(work);
  for (const r of results) if (r.status === 'rejected') summary.errors.push(String(r.reason));
  break;
}
lines.close();
await ledger.close();
process.stdout.write(`${JSON.stringify(summary)}\n`);
