// The SQLite writer on its own thread: the main thread keeps running while a write waits for
// the database or flushes it, and every way across the thread boundary (calls, errors, a dead
// worker, closing) behaves as the in-thread store does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { blankAccount } from '../../src/core/account-state.ts';
import { isTokenmeterError, TokenmeterError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import type { Store, WriteTx } from '../../src/store/store.ts';
import { WriteConflictError } from '../../src/store/write-conflict.ts';

const dir = mkdtempSync(join(tmpdir(), 'tm-worker-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(dir, `db-${files++}.db`);

async function migrated<S extends Store>(store: S): Promise<S> {
  await store.migrate();
  return store;
}

/** Runs `body` on a fresh, migrated store and closes it whatever happens. */
async function withStore<T>(make: (path: string) => Store, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await migrated(make(fresh()));
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

const isUnavailable = (err: unknown) => isTokenmeterError(err) && err.code === 'unavailable';

/** What a call did, comparable across stores: its value, or its error's kind and message. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await call() };
  } catch (err) {
    const e = err as Error & { code?: unknown; errcode?: unknown };
    return { name: e.name, message: e.message, code: e.code, errcode: e.errcode, kind: e.constructor.name };
  }
}

/** Every method of an object, own and inherited, by name. */
function methodsOf(target: object): string[] {
  const names = new Set<string>();
  for (
    let p: object | null = Object.getPrototypeOf(target);
    p && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== 'constructor' && typeof Reflect.get(target, name) === 'function') names.add(name);
    }
  }
  return [...names].sort();
}

describe('the SQLite writer leaves the event loop', () => {
  it('a write waiting for the database lock leaves the main thread free: it releases the lock, and the write commits', async () => {
    const path = fresh();
    const store = openStore(`sqlite:${path}`, {});
    try {
      await store.migrate();
      // Another connection on this (main) thread holds the database's write lock.
      const other = new DatabaseSync(path);
      other.exec('BEGIN IMMEDIATE');
      const write = store.write(async (tx) => {
        await tx.insertAccount(blankAccount('a', 'free', 1), 'exempt');
        return 'committed';
      });
      // Only a free event loop gets here while the write waits; an in-thread writer would sit in
      // SQLite's busy wait until its timeout and fail the write.
      await new Promise((resolve) => setImmediate(resolve));
      other.exec('COMMIT');
      other.close();
      assert.equal(await write, 'committed');
      assert.equal((await store.getAccount('a'))?.id, 'a');
    } finally {
      await store.close();
    }
  });

  it('TOKENMETER_SQLITE_WORKER: on by default for a file, off keeps the in-thread writer, :memory: stays in-thread, other values refused by name', async () => {
    const stores = [
      openStore(`sqlite:${fresh()}`, {}),
      openStore(`sqlite:${fresh()}`, { TOKENMETER_SQLITE_WORKER: 'on' }),
      openStore(`sqlite:${fresh()}`, { TOKENMETER_SQLITE_WORKER: 'off' }),
      openStore('sqlite::memory:', {}),
    ];
    try {
      assert.deepEqual(
        stores.map((s) => s.constructor.name),
        ['SqliteWorkerStore', 'SqliteWorkerStore', 'SqliteStore', 'SqliteStore'],
      );
    } finally {
      for (const s of stores) await s.close();
    }
    assert.throws(
      () => openStore(`sqlite:${fresh()}`, { TOKENMETER_SQLITE_WORKER: 'sometimes' }),
      (err: unknown) => err instanceof TokenmeterError && /TOKENMETER_SQLITE_WORKER/.test(err.message),
    );
  });
});

describe('the worker-thread store across the thread boundary', () => {
  const inline = (path: string) => new SqliteStore({ path });
  const worker = (path: string) => new SqliteWorkerStore({ path });
  const workerReads = (path: string) => new SqliteWorkerStore({ path, reads: 'worker' });

  it('every WriteTx method (payments and recovery too), called by name, does what it does in-thread', async () => {
    // Methods are forwarded by name: whatever a real transaction has, the proxy must serve the
    // same way. Called without arguments, each fails or answers identically on both sides.
    const names = await withStore(inline, (store) =>
      store.write(async (tx) => [
        ...methodsOf(tx),
        ...methodsOf(tx.payments).map((n) => `payments.${n}`),
        ...methodsOf(tx.recovery).map((n) => `recovery.${n}`),
      ]),
    );
    for (const name of ['openBatch', 'allocateIds', 'writeBatch', 'payments.insertEvent', 'recovery.recoveredLines']) {
      assert.ok(names.includes(name), name);
    }
    const run = (make: (path: string) => Store) =>
      withStore(make, (store) =>
        store.write(async (tx) => {
          const seen: Record<string, unknown> = {};
          for (const path of names) {
            const [child, method] = path.includes('.') ? path.split('.') : [undefined, path];
            const target: object = child === undefined ? tx : Reflect.get(tx, child);
            seen[path] = await outcome(() => Reflect.apply(Reflect.get(target, method ?? ''), target, []));
          }
          return seen;
        }),
      );
    const real = await run(inline);
    assert.deepEqual(await run(worker), real);
  });

  it('every ServiceStore method, called by name, does what it does in-thread', async () => {
    const real = new SqliteStore({ path: ':memory:' });
    const names = methodsOf(real.service);
    await real.close();
    assert.ok(names.includes('insertApiKey') && names.includes('findApiKeyByHash'));
    const run = (make: (path: string) => Store) =>
      withStore(make, async (store) => {
        const seen: Record<string, unknown> = {};
        for (const name of names) {
          seen[name] = await outcome(() => Reflect.apply(Reflect.get(store.service, name), store.service, []));
        }
        return seen;
      });
    const expected = await run(inline);
    assert.deepEqual(await run(worker), expected);
    assert.deepEqual(await run(workerReads), expected);
  });

  it('errors come back as the same kind: TokenmeterError with its code and field, WriteConflictError, a SQLite constraint error', async () => {
    for (const make of [worker, workerReads]) {
      await withStore(make, async (store) => {
        await store.write((tx) => tx.insertAccount(blankAccount('a', 'free', 1), 'exempt'));
        const stale = await outcome(() =>
          store.write(async (tx) => {
            const a = blankAccount('a', 'free', 1); // version 0: the stored row is at 1
            await tx.updateAccount(a, { ...a, purchased: 5 }, 'exempt');
          }),
        );
        assert.equal((stale as { kind: string }).kind, 'WriteConflictError');
        await assert.rejects(
          store.write(async (tx) => {
            const a = blankAccount('a', 'free', 1);
            await tx.updateAccount(a, a, 'exempt');
          }),
          (err: unknown) => err instanceof WriteConflictError,
        );
        await assert.rejects(
          store.history('a', { limit: 1, cursor: 'not-a-cursor' }),
          (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === 'cursor',
        );
        const record = { account: 'a', operation: 'deduct', key: 'k', fingerprint: 'f', response: '{}', createdAt: 1 };
        const twice = (s: Store) =>
          outcome(() =>
            s.write(async (tx) => {
              await tx.saveIdempotency(record);
              await tx.saveIdempotency(record);
            }),
          );
        const real = await withStore(inline, async (s) => {
          await s.write((tx) => tx.insertAccount(blankAccount('a', 'free', 1), 'exempt'));
          return twice(s);
        });
        assert.deepEqual(await twice(store), real);
        assert.equal(Number((real as { errcode: unknown }).errcode) & 0xff, 19); // SQLITE_CONSTRAINT
      });
    }
  });

  it('an error thrown on the main thread rolls the worker’s transaction back, and the next write goes through', async () => {
    await withStore(worker, async (store) => {
      await assert.rejects(
        store.write(async (tx) => {
          await tx.insertAccount(blankAccount('gone', 'free', 1), 'exempt');
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await store.getAccount('gone'), undefined);
      await store.write((tx) => tx.insertAccount(blankAccount('kept', 'free', 1), 'exempt'));
      assert.equal((await store.getAccount('kept'))?.id, 'kept');
    });
  });

  it('concurrent writes through the worker, some failing at any step, commit exactly the ones that succeeded (fast-check)', async () => {
    await withStore(worker, async (store) => {
      await store.write((tx) => tx.insertAccount(blankAccount('c', 'free', 1), 'exempt'));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ fail: fc.constantFrom('none', 'before', 'after', 'conflict'), yields: fc.nat(3) }), {
            maxLength: 25,
          }),
          async (ops) => {
            const start = await store.getAccount('c');
            assert.ok(start);
            const results = await Promise.allSettled(
              ops.map((op) =>
                store.write(async (tx: WriteTx) => {
                  for (let i = 0; i < op.yields; i++) await Promise.resolve();
                  if (op.fail === 'before') throw new Error('before');
                  const a = await tx.lockAccount('c');
                  assert.ok(a);
                  const before = op.fail === 'conflict' ? { ...a, version: a.version - 1 } : a;
                  await tx.updateAccount(before, { ...a, purchased: a.purchased + 1 }, 'exempt');
                  if (op.fail === 'after') throw new Error('after');
                  // Answered only after COMMIT: a read on the main thread's own connection sees it.
                  return a.version + 1;
                }),
              ),
            );
            const done = results.filter((r) => r.status === 'fulfilled');
            assert.equal(done.length, ops.filter((op) => op.fail === 'none').length);
            const end = await store.getAccount('c');
            assert.equal(end?.purchased, start.purchased + done.length);
            assert.equal(end?.version, start.version + done.length);
            // Serialized: each committed write saw the one before it.
            assert.deepEqual(
              done.map((r) => r.value).sort((x, y) => x - y),
              done.map((_, i) => start.version + 1 + i),
            );
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  it('an argument that cannot cross to the worker fails its call and the write, and nothing is left waiting', async () => {
    await withStore(worker, async (store) => {
      await assert.rejects(
        store.write(async (tx) => {
          await tx.lockAccount((() => 'a') as unknown as string);
        }),
        (err: unknown) => err instanceof Error && err.name === 'DataCloneError',
      );
      // A call left pending would hold the worker referenced: the process could never exit.
      assert.equal((store as unknown as { pending: Map<number, unknown> }).pending.size, 0);
      await store.write((tx) => tx.insertAccount(blankAccount('after', 'free', 1), 'exempt'));
      assert.equal((await store.getAccount('after'))?.id, 'after');
    });
  });

  it('a worker that dies fails every pending and later call with unavailable, never hangs', async () => {
    const store = await migrated(new SqliteWorkerStore({ path: fresh() }));
    const thread = (store as unknown as { worker: Worker }).worker;
    const write = store.write(async (tx) => {
      await tx.lockAccount('a');
      const pending = tx.lockAccount('b');
      await thread.terminate();
      await pending;
    });
    await assert.rejects(write, isUnavailable);
    await assert.rejects(
      store.write((tx) => tx.lockAccount('a')),
      isUnavailable,
    );
    await assert.rejects(store.migrate(), isUnavailable);
    await assert.rejects(store.service.settingOrInit('k', 'v'), isUnavailable);
    await store.close();
  });

  it('a process that never closes its store exits once its last write is answered, and that write is on disk', () => {
    const path = fresh();
    const script = join(dir, 'no-close.ts');
    const source = new URL('../../src/store/sqlite/worker-store.ts', import.meta.url).href;
    const blank = new URL('../../src/core/account-state.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { SqliteWorkerStore } from '${source}';
import { blankAccount } from '${blank}';
const store = new SqliteWorkerStore({ path: ${JSON.stringify(path)} });
await store.migrate();
await store.write((tx) => tx.insertAccount(blankAccount('left-open', 'free', 1), 'exempt'));
console.log('written');
`,
    );
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'written');
    const db = new DatabaseSync(path);
    try {
      assert.equal(db.prepare('SELECT id FROM accounts').get()?.id, 'left-open');
    } finally {
      db.close();
    }
  });

  it('close() ends the worker; the store then answers unavailable', async () => {
    const store = await migrated(new SqliteWorkerStore({ path: fresh() }));
    const thread = (store as unknown as { worker: Worker }).worker;
    const exited = new Promise<number>((resolve) => thread.once('exit', resolve));
    await store.close();
    assert.equal(await exited, 0);
    await assert.rejects(
      store.write((tx) => tx.lockAccount('a')),
      isUnavailable,
    );
    await store.close(); // twice is fine
  });
});
