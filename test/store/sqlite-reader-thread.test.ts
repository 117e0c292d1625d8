// The SQLite reader thread: the reads whose cost grows with the ledger (reconcile, the usage
// reports, the operator's ledger query) run there, so a scan never holds the main thread, and
// each answers exactly what the in-thread store answers on the same file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import type { NewEntry } from '../../src/core/entry.ts';
import { isTokenmeterError } from '../../src/core/errors.ts';
import { ReaderThread } from '../../src/store/sqlite/reader-thread.ts';
import { insertEntries } from '../../src/store/sqlite/sqlite-batch-writes.ts';
import { SqliteConnection } from '../../src/store/sqlite/sqlite-connection.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import type { Store } from '../../src/store/store.ts';
import { insertRawAccounts, rawDebit } from '../helpers/raw-ledger.ts';

const dir = mkdtempSync(join(tmpdir(), 'tm-reader-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ledgerPath = join(dir, 'ledger.db');

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const ACCOUNTS = 50;
const ENTRIES = 20_000;

/** A migrated database with ACCOUNTS accounts and ENTRIES debits spread over 60 days. */
async function buildLedger(path: string): Promise<void> {
  const store = new SqliteStore({ path });
  await store.migrate();
  await store.close();
  const conn = new SqliteConnection(path, 15_000, 'NORMAL');
  try {
    conn.exec('BEGIN');
    insertRawAccounts(
      conn,
      Array.from({ length: ACCOUNTS }, (_, a) => `acct-${a}`),
      START,
    );
    const entries: NewEntry[] = Array.from({ length: ENTRIES }, (_, i) =>
      rawDebit({
        id: i + 1,
        account: `acct-${(i * 7) % ACCOUNTS}`,
        at: START + Math.floor((i / ENTRIES) * 60 * DAY),
        tokens: 1 + (i % 3),
        feature: i % 2 === 0 ? 'outbound_call_single' : 'ai_agent_run',
      }),
    );
    for (let at = 0; at < ENTRIES; at += 1000) insertEntries(conn, entries.slice(at, at + 1000));
    conn.exec('COMMIT');
  } finally {
    conn.close();
  }
}

/** Runs `read`, counting the turns of this thread's event loop until it is answered. */
async function turnsWhile<T>(read: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { value: await read(), turns };
  } finally {
    done = true;
  }
}

/** The scanning reads, each as a call on a store. */
const SCANS: Record<string, (store: Store) => Promise<unknown>> = {
  reconcile: (s) => s.reconcile(),
  balanceAt: (s) => s.balanceAt('acct-3', START + 45 * DAY),
  usageByDay: (s) => s.service.usageByDay(START, START + 60 * DAY),
  'usageByDay of one account': (s) => s.service.usageByDay(START, START + 60 * DAY, 'acct-3'),
  usageByAccount: (s) => s.service.usageByAccount(START, START + 60 * DAY, 5),
  queryLedger: (s) => s.service.queryLedger({ from: START + DAY, to: START + 30 * DAY, limit: 50, cursor: null }),
  balanceSeries: (s) => s.service.balanceSeries('acct-3', START, START + 60 * DAY, 20),
  memberUsageByDay: (s) => s.service.memberUsageByDay('acct-3', 'acct-4', START, START + 60 * DAY),
};

describe('the SQLite reader thread', () => {
  let inThread: SqliteStore;
  before(async () => {
    await buildLedger(ledgerPath);
    inThread = new SqliteStore({ path: ledgerPath });
  });
  after(() => inThread.close());

  for (const [name, read] of Object.entries(SCANS)) {
    it(`${name}: the main thread's event loop turns while it is served, and its answer is the in-thread store's`, async () => {
      const store = new SqliteWorkerStore({ path: ledgerPath });
      try {
        const { value, turns } = await turnsWhile(() => read(store));
        // In-thread, node:sqlite runs the whole scan inside the call: no turn at all.
        assert.ok(turns >= 1, `${name} held the main thread for the whole read`);
        assert.deepEqual(value, await read(inThread));
      } finally {
        await store.close();
      }
    });
  }

  it('an error comes back as the same kind, with its code and field', async () => {
    const store = new SqliteWorkerStore({ path: ledgerPath });
    try {
      const bad = { limit: 10, cursor: 'not-a-cursor' };
      const fromReader = await store.service.queryLedger(bad).catch((err: unknown) => err);
      const fromMain = await inThread.service.queryLedger(bad).catch((err: unknown) => err);
      assert.ok(isTokenmeterError(fromReader), String(fromReader));
      assert.ok(isTokenmeterError(fromMain));
      assert.deepEqual(
        { code: fromReader.code, field: fromReader.field, message: fromReader.message },
        { code: fromMain.code, field: fromMain.field, message: fromMain.message },
      );
    } finally {
      await store.close();
    }
  });

  it('starts on the first read, ends once idle, and the next read starts another', async () => {
    const reader = new ReaderThread({ path: ledgerPath, busyTimeoutMs: 1000 }, 20);
    try {
      assert.equal(reader.running, false);
      const first = await reader.call('service', 'usageByDay', [START, START + 60 * DAY]);
      const thread = (reader as unknown as { worker: Worker | undefined }).worker;
      assert.ok(thread, 'a reader thread runs after the first read');
      assert.equal(await new Promise((resolve) => thread.once('exit', resolve)), 0);
      assert.equal(reader.running, false);
      assert.deepEqual(await reader.call('service', 'usageByDay', [START, START + 60 * DAY]), first);
      assert.equal(reader.running, true);
    } finally {
      await reader.close();
    }
  });

  it('a reader thread that dies refuses what it owed as unavailable; the next read starts another', async () => {
    const reader = new ReaderThread({ path: ledgerPath, busyTimeoutMs: 1000 });
    try {
      const pending = reader.call('store', 'reconcile', []);
      const thread = (reader as unknown as { worker: Worker }).worker;
      await thread.terminate();
      await assert.rejects(pending, (err) => isTokenmeterError(err) && err.code === 'unavailable');
      const again = (await reader.call('store', 'reconcile', [])) as { accountsChecked: number };
      assert.equal(again.accountsChecked, ACCOUNTS);
    } finally {
      await reader.close();
    }
  });

  it('close() waits for the reads already sent, ends the thread, and refuses later ones', async () => {
    const store = new SqliteWorkerStore({ path: ledgerPath });
    const read = store.reconcile();
    await store.close();
    assert.equal((await read).accountsChecked, ACCOUNTS);
    await assert.rejects(store.reconcile(), (err) => isTokenmeterError(err) && err.code === 'unavailable');
    await assert.rejects(
      store.service.usageByDay(START, START + DAY),
      (err) => isTokenmeterError(err) && err.code === 'unavailable',
    );
  });

  it('a process that never closes its store exits once its report is answered', () => {
    const script = join(dir, 'no-close.ts');
    const source = new URL('../../src/store/sqlite/worker-store.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { SqliteWorkerStore } from '${source}';
const store = new SqliteWorkerStore({ path: ${JSON.stringify(ledgerPath)} });
const usage = await store.service.usageByDay(${START}, ${START + 60 * DAY});
console.log(usage.length > 0 ? 'answered' : 'empty');
`,
    );
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'answered');
  });
});
