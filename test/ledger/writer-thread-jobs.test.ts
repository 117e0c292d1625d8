// With SQLite's writer on its worker thread, a deduction, reservation or credit is sent there
// as data and batched by a group committer beside the writer (ledger/batch/writer-host.ts); a
// hold's settlement is sent too and runs there as a transaction of its own. The same answers as
// the in-thread store gives, batches counted in groupCommitStats, commits that recorded events
// still wake this thread's listeners before the answer, and close() still answers what was sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { type AccountState, balanceOf } from '../../src/core/account-state.ts';
import { TokenmeterError } from '../../src/core/errors.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import type { Store } from '../../src/store/store.ts';
import { catalog, ledgerOn } from '../helpers/ledger.ts';

const dir = mkdtempSync(join(tmpdir(), 'tm-writer-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(dir, `db-${files++}.db`);

async function open(make: (path: string) => Store): Promise<TokenLedger> {
  const store = make(fresh());
  await store.migrate();
  return ledgerOn(store).ledger;
}

const balanceOrNone = (state: AccountState | undefined) => (state ? balanceOf(state) : null);

const FEATURES = [...catalog.features.keys()];

/** What the remote committer counted (the ledger's own committer counts the rest). */
const remoteStats = (ledger: TokenLedger) =>
  (ledger as unknown as { remote: { stats(): { operations: number } } | null }).remote?.stats();

describe('hot-path writes batched in the SQLite writer’s thread', () => {
  it('deductions, reservations, credits and hold settlements answer exactly as the in-thread store does, for any concurrent mix (fast-check)', async () => {
    const account = fc.constantFrom('a', 'b', 'c');
    const key = fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: undefined });
    const operation = fc.oneof(
      fc.record({
        op: fc.constant('deduct' as const),
        account,
        feature: fc.constantFrom(...FEATURES),
        quantity: fc.integer({ min: 1, max: 4 }),
        key,
      }),
      fc.record({
        op: fc.constant('reserve' as const),
        account,
        amount: fc.integer({ min: 1, max: 60 }),
        ttlSeconds: fc.constantFrom(60, 300),
        key,
      }),
      fc.record({
        op: fc.constant('credit' as const),
        account,
        tokens: fc.integer({ min: 1, max: 50 }),
        // Few references: a repeat replays the first credit, or conflicts with it.
        reference: fc.constantFrom('r1', 'r2', 'r3', 'r4'),
      }),
      // A hold reserved in an earlier round (the pick-th, if any), committed or released: a
      // transaction of its own; settling one twice is refused.
      fc.record({ op: fc.constant('commit' as const), pick: fc.nat(), actual: fc.integer({ min: 0, max: 80 }) }),
      fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
    );
    type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;
    const send = (ledger: TokenLedger, o: Operation, holds: readonly number[]): Promise<unknown> => {
      switch (o.op) {
        case 'commit':
        case 'release': {
          const hold = holds[o.pick % Math.max(1, holds.length)];
          if (hold === undefined) return Promise.resolve('no hold yet');
          return o.op === 'commit' ? ledger.commitHold(hold, o.actual) : ledger.releaseHold(hold);
        }
        case 'deduct':
          return ledger.deduct({ account: o.account, feature: o.feature, quantity: o.quantity, idempotencyKey: o.key });
        case 'reserve':
          return ledger.reserve({
            account: o.account,
            amount: o.amount,
            ttlSeconds: o.ttlSeconds,
            idempotencyKey: o.key,
          });
        case 'credit':
          return ledger.credit({ account: o.account, tokens: o.tokens, source: 'test', reference: o.reference });
      }
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 3 }),
        async (rounds) => {
          const answers: unknown[][][] = [];
          const balances: (number | null)[][] = [];
          for (const make of [
            (path: string) => new SqliteStore({ path }),
            (path: string) => new SqliteWorkerStore({ path }),
          ]) {
            const ledger = await open(make);
            try {
              const mine: unknown[][] = [];
              // Each round is sent at once (one batch or a few); rounds follow one another.
              const holds: number[] = [];
              for (const round of rounds) {
                const known = [...holds];
                const answered = await Promise.all(round.map((o) => send(ledger, o, known)));
                for (const a of answered) {
                  const id = (a as { holdId?: unknown }).holdId;
                  if (typeof id === 'number' && !holds.includes(id)) holds.push(id);
                }
                mine.push(answered);
              }
              answers.push(mine);
              balances.push(
                await Promise.all(['a', 'b', 'c'].map(async (id) => balanceOrNone(await ledger.store.getAccount(id)))),
              );
              assert.deepEqual((await ledger.reconcile()).drift, []);
            } finally {
              await ledger.close();
            }
          }
          assert.deepEqual(answers[1], answers[0]);
          assert.deepEqual(balances[1], balances[0]);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('deductMany answers every item exactly as single deductions sent in the same turn do, on either store (fast-check)', async () => {
    const item = fc.record({
      account: fc.constantFrom('a', 'b', 'c'),
      feature: fc.constantFrom(...FEATURES),
      quantity: fc.integer({ min: 1, max: 4 }),
      // Few keys: a repeat within a round or across rounds replays the first.
      idempotencyKey: fc.option(fc.constantFrom('k1', 'k2', 'k3'), { nil: undefined }),
    });
    type Item = typeof item extends fc.Arbitrary<infer T> ? T : never;
    // A settled item as data: an answer, or the code it was refused with.
    const asData = (settled: PromiseSettledResult<unknown>[]) =>
      settled.map((s) => (s.status === 'fulfilled' ? s.value : { rejected: (s.reason as { code?: string }).code }));
    const singles = async (ledger: TokenLedger, items: Item[]) =>
      asData(await Promise.allSettled(items.map((i) => ledger.deduct(i))));
    const many = async (ledger: TokenLedger, items: Item[]) => asData(await ledger.deductMany(items));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(item, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 }),
        async (rounds) => {
          const runs: { answers: unknown[][]; balances: (number | null)[] }[] = [];
          for (const [make, send] of [
            [(path: string) => new SqliteStore({ path }), singles],
            [(path: string) => new SqliteStore({ path }), many],
            [(path: string) => new SqliteWorkerStore({ path }), many],
          ] as const) {
            const ledger = await open(make);
            try {
              const answers: unknown[][] = [];
              for (const round of rounds) answers.push(await send(ledger, round));
              const balances = await Promise.all(
                ['a', 'b', 'c'].map(async (id) => balanceOrNone(await ledger.store.getAccount(id))),
              );
              assert.deepEqual((await ledger.reconcile()).drift, []);
              runs.push({ answers, balances });
            } finally {
              await ledger.close();
            }
          }
          assert.deepEqual(runs[1], runs[0], 'in-thread: deductMany as single deductions');
          assert.deepEqual(runs[2], runs[0], 'beside the writer: deductMany as single deductions');
        },
      ),
      { numRuns: 12 },
    );
  });

  it('deductMany beside the writer: an item the queue could not take is a rejected unavailable of its own, the others are charged', async () => {
    for (const make of [
      (path: string) => new SqliteStore({ path }),
      (path: string) => new SqliteWorkerStore({ path }),
    ]) {
      const store = make(fresh());
      await store.migrate();
      const { ledger } = ledgerOn(store, undefined, { maxBatch: 1, maxWaitMs: 0, maxQueue: 2 });
      try {
        const settled = await ledger.deductMany(
          Array.from({ length: 5 }, (_, i) => ({
            account: 'u',
            feature: 'outbound_call_single',
            idempotencyKey: `u${i}`,
          })),
        );
        assert.deepEqual(
          settled.map((s) => (s.status === 'fulfilled' ? s.value.ok : (s.reason as TokenmeterError).code)),
          [true, true, 'unavailable', 'unavailable', 'unavailable'],
        );
        const refused = settled[2];
        assert.ok(
          refused?.status === 'rejected' && refused.reason instanceof TokenmeterError,
          'rebuilt as a TokenmeterError',
        );
        assert.equal(balanceOrNone(await ledger.store.getAccount('u')), 98);
      } finally {
        await ledger.close();
      }
    }
  });

  it('deductMany checks every item first: a bad one throws naming it, and nothing is charged', async () => {
    const ledger = await open((path) => new SqliteWorkerStore({ path }));
    try {
      await ledger.createAccount({ account: 'v' });
      await assert.rejects(
        ledger.deductMany([
          { account: 'v', feature: 'outbound_call_single' },
          { account: 'v', feature: 'outbound_call_single', quantity: 0 },
        ]),
        (err: unknown) => err instanceof TokenmeterError && err.field === 'deductions[1].quantity',
      );
      assert.equal(balanceOrNone(await ledger.store.getAccount('v')), 100);
    } finally {
      await ledger.close();
    }
  });

  it('deductMany when the writer’s thread dies before answering: rejected as a whole with unavailable, never hanging', async () => {
    const store = new SqliteWorkerStore({ path: fresh() });
    await store.migrate();
    const { ledger } = ledgerOn(store);
    const sent = ledger.deductMany(
      Array.from({ length: 50 }, (_, i) => ({
        account: 'w',
        feature: 'outbound_call_single',
        idempotencyKey: `w${i}`,
      })),
    );
    await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(sent, (err: unknown) => err instanceof TokenmeterError && err.code === 'unavailable');
    await ledger.close();
  });

  it('run there: concurrent deductions are counted as the writer thread’s batches in groupCommitStats', async () => {
    const ledger = await open((path) => new SqliteWorkerStore({ path }));
    try {
      const before = ledger.groupCommitStats();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => ledger.deduct({ account: `s${i % 4}`, feature: 'outbound_call_single' })),
      );
      const stats = ledger.groupCommitStats();
      assert.equal(stats.operations - before.operations, 20);
      assert.equal(remoteStats(ledger)?.operations, 20, 'all twenty were batched beside the writer');
      assert.ok(stats.largestBatch > 1, 'sent together, they shared a batch');
    } finally {
      await ledger.close();
    }
  });

  it('a commit that recorded an event wakes this thread’s listeners before its answer; one that recorded none does not', async () => {
    const ledger = await open((path) => new SqliteWorkerStore({ path }));
    let woken = 0;
    ledger.onEventsCommitted(() => woken++);
    try {
      await ledger.adjust({ account: 'e', setBalance: 50, reason: 'setup', actor: 'test' });
      woken = 0;
      const quiet = await ledger.deduct({ account: 'e', feature: 'outbound_call_single' });
      assert.equal(quiet.ok, true);
      assert.equal(woken, 0, 'from 50 to 49 crosses nothing');
      const last = await ledger.deduct({ account: 'e', feature: 'outbound_call_single', quantity: 49 });
      assert.equal(last.ok, true);
      assert.equal(woken, 1, 'balance.depleted was recorded, and the listener heard of it before the answer');
    } finally {
      await ledger.close();
    }
  });

  it('close() answers every deduction already sent, and they are on disk', async () => {
    const path = fresh();
    const store = new SqliteWorkerStore({ path });
    await store.migrate();
    const { ledger } = ledgerOn(store);
    const sent = Array.from({ length: 30 }, () => ledger.deduct({ account: 'c', feature: 'outbound_call_single' }));
    await ledger.close();
    const answers = await Promise.all(sent);
    assert.ok(answers.every((a) => a.ok));
    const reopened = new SqliteStore({ path });
    try {
      assert.equal(balanceOrNone(await reopened.getAccount('c')), 100 - 30);
    } finally {
      await reopened.close();
    }
  });
});
