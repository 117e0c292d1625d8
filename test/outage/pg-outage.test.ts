// The database dies while deductions are in flight, and comes back. On a PostgreSQL cluster of
// the test's own (never the shared server on 5432): a stream of keyed deductions runs on a few
// accounts, the cluster is stopped with `pg_ctl -m immediate` (every backend killed at once, as
// a crash would) once enough of them were acknowledged, and started again. Then:
//   - every failure is a TokenmeterError `unavailable` with a clear message, and nothing else;
//   - every acknowledged deduction is in the ledger exactly once;
//   - every failed one, retried with its idempotency key, is charged exactly once in total
//     (replayed when the lost COMMIT had in fact applied);
//   - reconcile is clean;
//   - the same store, same pool, no restart of the process, serves again within 5 s.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TokenmeterError } from '../../src/core/errors.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { Deducted, Refusal } from '../../src/ledger/types.ts';
import { openStore } from '../../src/store/open-store.ts';
import { accepted, catalog } from '../helpers/ledger.ts';
import { createThrowawayCluster, type ThrowawayCluster, throwawayClusterSkip } from '../helpers/throwaway-cluster.ts';

const ACCOUNTS = ['acct-0', 'acct-1', 'acct-2', 'acct-3'];
const START_BALANCE = 1_000_000; // ample: no deduction in this test may be refused for tokens
const FEATURE = 'outbound_call_single'; // cost 1, so a deduction costs its quantity
const LANES = 16; // deductions in flight at once (the pool has 8 connections: some wait for one)
const STOP_AFTER_ACKS = 300; // the stop is triggered by this acknowledgement
const AFTER_DOWN = 40; // deductions sent once the server is down, all to fail
const RECOVERY_BOUND_MS = 5000;

type Phase = 'up' | 'stopping' | 'down';

interface Sent {
  key: string;
  account: string;
  quantity: number;
  /** Where the stop was when this deduction was sent. */
  phase: Phase;
}

type Outcome =
  | { kind: 'ok'; sent: Sent; result: Deducted }
  | { kind: 'refused'; sent: Sent; result: Refusal }
  | { kind: 'failed'; sent: Sent; error: unknown };

const describeError = (err: unknown) =>
  err instanceof TokenmeterError ? `TokenmeterError(${err.code}): ${err.message}` : String(err);

/** A clear `unavailable`: the code, what happened, and for a write, how to find out safely. */
function isClearUnavailable(err: unknown): boolean {
  return (
    err instanceof TokenmeterError &&
    err.code === 'unavailable' &&
    /^The token store is unavailable \(.+\); retry the operation with the same idempotency key$/.test(err.message)
  );
}

describe('PostgreSQL outage: stopped with -m immediate mid-stream, then started again', {
  skip: await throwawayClusterSkip(),
  timeout: 120_000,
}, () => {
  let cluster: ThrowawayCluster | undefined;
  let ledger: TokenLedger | undefined;
  let raw: pg.Client | undefined;
  after(async () => {
    await raw?.end().catch(() => {});
    await ledger?.close();
    await cluster?.remove();
  });

  it('loses no acknowledged deduction, charges every retried one once, and serves again without a restart', async (t) => {
    cluster = await createThrowawayCluster();
    const db = cluster;
    await db.start();

    const store = openStore(db.url, { TOKENMETER_PG_POOL_SIZE: '8' });
    await store.migrate();
    const l = new TokenLedger({ store, catalog });
    ledger = l;
    for (const account of ACCOUNTS) {
      await l.createAccount({ account });
      accepted(await l.adjust({ account, setBalance: START_BALANCE, reason: 'outage test', actor: 'test' }));
    }

    // --- the stream, and the stop it triggers --------------------------------------------------
    const outcomes: Outcome[] = [];
    let phase: Phase = 'up';
    let stopping: Promise<void> | undefined;
    let stopError: unknown;
    let next = 0;
    let acks = 0;
    let sentWhileDown = 0;
    const started = performance.now();
    let stopTriggeredAt = 0;
    let downAt = 0;

    const triggerStop = () => {
      phase = 'stopping';
      stopTriggeredAt = performance.now();
      stopping = db.stop('immediate').then(
        () => {
          phase = 'down';
          downAt = performance.now();
        },
        (err: unknown) => {
          stopError = err;
          phase = 'down';
        },
      );
    };

    const lane = async () => {
      while (phase !== 'down' || sentWhileDown < AFTER_DOWN) {
        const i = next++;
        if (phase === 'down') sentWhileDown++;
        const sent: Sent = {
          key: `outage-${i}`,
          account: ACCOUNTS[i % ACCOUNTS.length] ?? 'acct-0',
          quantity: 1 + (i % 5),
          phase,
        };
        try {
          const result = await l.deduct({
            account: sent.account,
            feature: FEATURE,
            quantity: sent.quantity,
            idempotencyKey: sent.key,
          });
          if (result.ok) {
            outcomes.push({ kind: 'ok', sent, result });
            if (++acks === STOP_AFTER_ACKS) triggerStop();
          } else outcomes.push({ kind: 'refused', sent, result });
        } catch (error) {
          outcomes.push({ kind: 'failed', sent, error });
          // Failing before the stop completes: wait for it (event-driven), so the lanes do not spin.
          if (stopping) await stopping;
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    await stopping;
    assert.equal(stopError, undefined, `pg_ctl stop failed: ${String(stopError)}`);
    assert.ok(stopping, `the stream never reached ${STOP_AFTER_ACKS} acknowledgements`);

    const ok = outcomes.flatMap((o) => (o.kind === 'ok' ? [o] : []));
    const refused = outcomes.flatMap((o) => (o.kind === 'refused' ? [o] : []));
    const failed = outcomes.flatMap((o) => (o.kind === 'failed' ? [o] : []));
    const cutInFlight = failed.filter((o) => o.sent.phase !== 'down');
    // Cut mid-transaction: the server dropped a pooled connection under a running transaction.
    // The others were refused (or reset, or told the server is shutting down) while connecting.
    const midTransaction = failed.filter(
      (o) =>
        o.error instanceof Error &&
        /Connection terminated|read ECONNRESET|terminating connection/.test(o.error.message),
    );

    // Every failure is a clear `unavailable`, and nothing else; nothing was refused for tokens.
    assert.deepEqual(
      failed.filter((o) => !isClearUnavailable(o.error)).map((o) => `${o.sent.key}: ${describeError(o.error)}`),
      [],
    );
    assert.deepEqual(
      refused.map((o) => `${o.sent.key}: ${o.result.code}`),
      [],
    );
    assert.equal(outcomes.length, next, 'every deduction sent has an outcome');
    assert.ok(ok.length >= STOP_AFTER_ACKS);
    assert.ok(failed.filter((o) => o.sent.phase === 'down').length >= AFTER_DOWN);
    assert.ok(midTransaction.length > 0, 'no deduction was in flight when the server stopped');

    // --- back up: the same store serves again ---------------------------------------------------
    await db.start();
    const upAt = performance.now();
    let attempts = 0;
    let probe: Deducted | undefined;
    const probeErrors: unknown[] = [];
    while (performance.now() - upAt < RECOVERY_BOUND_MS) {
      attempts++;
      try {
        probe = accepted(await l.deduct({ account: 'acct-0', feature: FEATURE, idempotencyKey: 'after-restart' }));
        break;
      } catch (err) {
        probeErrors.push(err);
        await sleep(50);
      }
    }
    const recoveryMs = performance.now() - upAt;
    assert.ok(
      probe,
      `not served within ${RECOVERY_BOUND_MS} ms of the database coming back (${attempts} attempts); last error: ${describeError(probeErrors.at(-1))}`,
    );
    assert.deepEqual(probeErrors.filter((e) => !isClearUnavailable(e)).map(describeError), []);

    // --- every acknowledged deduction is in the ledger exactly once -----------------------------
    const client = new pg.Client({ connectionString: db.url });
    raw = client;
    await client.connect();
    const debits = async () => {
      const { rows } = await client.query<{ key: string | null; n: string; charged: string; id: string }>(
        `SELECT idempotency_key AS key, count(*) AS n, -sum(amount) AS charged, min(id) AS id
         FROM ledger_entries WHERE kind = 'debit' GROUP BY idempotency_key`,
      );
      return new Map(rows.map((r) => [r.key, { n: Number(r.n), charged: Number(r.charged), id: Number(r.id) }]));
    };
    const before = await debits();
    for (const o of ok) {
      assert.deepEqual(before.get(o.sent.key), { n: 1, charged: o.result.cost, id: o.result.entryId }, o.sent.key);
    }

    // --- every failed one, retried with its key, is charged exactly once in total ---------------
    let committedDespiteFailure = 0;
    for (const o of failed) {
      const retry = accepted(
        await l.deduct({
          account: o.sent.account,
          feature: FEATURE,
          quantity: o.sent.quantity,
          idempotencyKey: o.sent.key,
        }),
      );
      assert.equal(retry.cost, o.sent.quantity);
      // A replay means the failed attempt's COMMIT had reached the database after all.
      if (retry.replayed) {
        committedDespiteFailure++;
        assert.equal(before.get(o.sent.key)?.n, 1, `${o.sent.key} replayed but was not in the ledger`);
      } else assert.equal(before.get(o.sent.key), undefined, `${o.sent.key} was charged, yet charged again`);
    }
    const afterRetries = await debits();
    const expected = new Map<string | null, number>([['after-restart', 1]]);
    for (const o of outcomes) expected.set(o.sent.key, o.sent.quantity);
    assert.deepEqual(
      [...afterRetries].filter(([key, d]) => d.n !== 1 || d.charged !== expected.get(key)).map(([key]) => key),
      [],
      'each key charged exactly once, with its own amount',
    );
    assert.deepEqual([...afterRetries.keys()].sort(), [...expected.keys()].sort());

    for (const account of ACCOUNTS) {
      const charged = outcomes.filter((o) => o.sent.account === account).reduce((n, o) => n + o.sent.quantity, 0);
      const probeCost = account === 'acct-0' ? 1 : 0;
      assert.equal((await l.getBalance(account)).balance, START_BALANCE - charged - probeCost, account);
    }
    assert.deepEqual(await l.reconcile(), { accountsChecked: ACCOUNTS.length, drift: [] });

    const ms = (x: number) => `${Math.round(x)} ms`;
    t.diagnostic(
      `${outcomes.length} deductions: ${ok.length} acknowledged, ${refused.length} refused, ${failed.length} failed ` +
        `(${cutInFlight.length} sent before the server was down, ${failed.length - cutInFlight.length} while down; ` +
        `${midTransaction.length} cut mid-transaction, the rest while connecting); ` +
        `${committedDespiteFailure} of the failed had committed (retry replayed), ${failed.length - committedDespiteFailure} had not (retry charged)`,
    );
    t.diagnostic(
      `stop triggered at ${ms(stopTriggeredAt - started)} into the stream, down ${ms(downAt - stopTriggeredAt)} later; ` +
        `served again ${ms(recoveryMs)} after pg_ctl start returned (${attempts} attempt${attempts === 1 ? '' : 's'})`,
    );
    const reasons = new Map<string, number>();
    for (const o of failed) {
      const m = o.error instanceof Error ? (/\((.*)\)/.exec(o.error.message)?.[1] ?? o.error.message) : String(o.error);
      reasons.set(m, (reasons.get(m) ?? 0) + 1);
    }
    t.diagnostic(`failure reasons: ${[...reasons].map(([m, n]) => `${n}× ${m}`).join('; ')}`);
  });
});
