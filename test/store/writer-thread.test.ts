// Code hosted beside the SQLite writer, on its thread (store/writer-thread.ts): a module loaded
// there, given that thread's store, called by name from the main thread; what it tells the main
// thread unasked arrives in order and before the answers that follow it; errors keep their kind;
// a worker that dies fails what waits for it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { isTokenmeterError } from '../../src/core/errors.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import { WriteConflictError } from '../../src/store/write-conflict.ts';

const dir = mkdtempSync(join(tmpdir(), 'tm-writer-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(dir, `db-${files++}.db`);

const src = (path: string) => new URL(`../../src/${path}`, import.meta.url).href;

/** A host module, written for these tests: it touches the thread's store and notifies as asked. */
const HOST = join(dir, 'test-host.ts');
writeFileSync(
  HOST,
  `import { blankAccount } from '${src('core/account-state.ts')}';
import { TokenmeterError } from '${src('core/errors.ts')}';
import { WriteConflictError } from '${src('store/write-conflict.ts')}';
export function createHost(store, notify, setup) {
  return {
    setup: () => setup,
    threadStore: () => store.constructor.name,
    async open(id) {
      await store.write((tx) => tx.insertAccount(blankAccount(id, 'free', 1), 'exempt'));
      return id;
    },
    async tell(label, count) {
      for (let i = 0; i < count; i++) notify({ label, i });
      await new Promise((r) => setImmediate(r));
      return count;
    },
    refuse(kind) {
      if (kind === 'tokenmeter') throw new TokenmeterError('insufficient_tokens', 'not enough', 'quantity');
      if (kind === 'conflict') throw new WriteConflictError('changed meanwhile');
      throw new RangeError('out of range');
    },
    forever: () => new Promise(() => {}),
  };
}
`,
);
const EMPTY = join(dir, 'empty-host.ts');
writeFileSync(EMPTY, 'export const nothing = 1;\n');

async function withWorkerStore<T>(body: (store: SqliteWorkerStore) => Promise<T>): Promise<T> {
  const store = new SqliteWorkerStore({ path: fresh() });
  await store.migrate();
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

const hostOf = (store: SqliteWorkerStore, module: string, setup: unknown = null) => {
  const thread = store.writerThread;
  return thread.host(pathToFileURL(module).href, setup);
};

describe('code hosted beside the SQLite writer', () => {
  it('is called by name with its setup, on the writer thread’s own store, whose writes the main thread reads', async () => {
    await withWorkerStore(async (store) => {
      const host = hostOf(store, HOST, { catalog: new Map([['plan', { tokens: 5 }]]) });
      assert.deepEqual(await host.call('setup', []), { catalog: new Map([['plan', { tokens: 5 }]]) });
      assert.equal(await host.call('threadStore', []), SqliteStore.name);
      assert.equal(await host.call('open', ['made-there']), 'made-there');
      assert.equal((await store.getAccount('made-there'))?.id, 'made-there');
    });
  });

  it('each host keeps its own setup', async () => {
    await withWorkerStore(async (store) => {
      const a = hostOf(store, HOST, 'a');
      const b = hostOf(store, HOST, 'b');
      assert.deepEqual(await Promise.all([a.call('setup', []), b.call('setup', [])]), ['a', 'b']);
    });
  });

  it('what a host tells arrives in order, to its own listeners only, before every answer given after it (fast-check)', async () => {
    await withWorkerStore(async (store) => {
      const a = hostOf(store, HOST);
      const b = hostOf(store, HOST);
      const heard: { a: unknown[]; b: unknown[] } = { a: [], b: [] };
      a.onNotice((n) => heard.a.push(n));
      b.onNotice((n) => heard.b.push(n));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ on: fc.constantFrom('a', 'b'), count: fc.nat(5) }), { minLength: 1, maxLength: 12 }),
          async (calls) => {
            heard.a = [];
            heard.b = [];
            const labels = calls.map((_, i) => `call-${i}`);
            // Sent together: each answer must find its own notices already heard, in order.
            await Promise.all(
              calls.map(async ({ on, count }, i) => {
                const host = on === 'a' ? a : b;
                assert.equal(await host.call('tell', [labels[i], count]), count);
                const mine = heard[on].filter((n) => (n as { label: string }).label === labels[i]);
                assert.deepEqual(
                  mine.map((n) => (n as { i: number }).i),
                  Array.from({ length: count }, (_, k) => k),
                );
              }),
            );
            for (const on of ['a', 'b'] as const) {
              const expected = calls.filter((c) => c.on === on).reduce((sum, c) => sum + c.count, 0);
              assert.equal(heard[on].length, expected, `host ${on} heard only its own`);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  it('errors come back as the same kind: TokenmeterError with code and field, WriteConflictError, a standard error', async () => {
    await withWorkerStore(async (store) => {
      const host = hostOf(store, HOST);
      await assert.rejects(
        host.call('refuse', ['tokenmeter']),
        (err) => isTokenmeterError(err) && err.code === 'insufficient_tokens' && err.field === 'quantity',
      );
      await assert.rejects(host.call('refuse', ['conflict']), WriteConflictError);
      await assert.rejects(host.call('refuse', ['range']), RangeError);
      await assert.rejects(host.call('nosuch', []), /no method nosuch/);
    });
  });

  it('a module that makes no host fails every call to it, and the store goes on serving', async () => {
    await withWorkerStore(async (store) => {
      const host = hostOf(store, EMPTY);
      await assert.rejects(host.call('anything', []), /exports no createHost/);
      await assert.rejects(host.call('anything', []), /exports no createHost/);
      const missing = hostOf(store, join(dir, 'no-such-module.ts'));
      await assert.rejects(missing.call('anything', []));
      assert.equal(await hostOf(store, HOST).call('open', ['still-serving']), 'still-serving');
    });
  });

  it('a worker that dies fails a host call waiting for it, and every later one, with unavailable', async () => {
    const store = new SqliteWorkerStore({ path: fresh() });
    await store.migrate();
    const host = hostOf(store, HOST);
    await host.call('setup', []);
    const waiting = host.call('forever', []);
    await (store as unknown as { worker: Worker }).worker.terminate();
    const unavailable = (err: unknown) => isTokenmeterError(err) && err.code === 'unavailable';
    await assert.rejects(waiting, unavailable);
    await assert.rejects(host.call('setup', []), unavailable);
    await store.close();
  });
});
