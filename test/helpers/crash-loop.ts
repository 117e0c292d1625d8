// The kill -9 crash loop, for any store behind the HTTP server: keep 16 requests of keyed
// deductions in flight (one deduction each, or with `batch` that many items a request through
// the batch route), SIGKILL the server at a point that varies by round, restart it on the same
// database, retry every deduction whose answer was lost with its idempotency key, and finally
// check the ledger: every acknowledged deduction is there exactly once, every charge was
// acknowledged (at first or on retry), and reconcile is clean.
import assert from 'node:assert/strict';
import { openLedger } from '../../src/ledger/open-ledger.ts';
import { SERVER_APP_KEY, startServerProcess } from './server-process.ts';

const IN_FLIGHT = 16;
const ACCOUNTS = 50;

type Outcome = { kind: 'acknowledged'; entryId: number; replayed: boolean } | { kind: 'refused' } | { kind: 'lost' };

const accountOf = (key: string) => `acct-${Number(key.split('-').at(-1)) % ACCOUNTS}`;

/** One answer, single route or batch item, as an outcome. */
function outcomeOf(status: number, body: { entry_id?: unknown; replayed?: unknown; code?: unknown }): Outcome {
  if (status === 200 && typeof body.entry_id === 'number') {
    return { kind: 'acknowledged', entryId: body.entry_id, replayed: body.replayed === true };
  }
  return status === 402 || body.code === 'insufficient_tokens' ? { kind: 'refused' } : { kind: 'lost' };
}

/** Sends `keys` (one deduction each) as one request: the single route for one key, else the batch route. */
async function send(url: string, keys: readonly string[], batch: boolean): Promise<Outcome[]> {
  let results: Record<string, unknown>[];
  try {
    const headers = { authorization: `Bearer ${SERVER_APP_KEY}`, 'content-type': 'application/json' };
    if (!batch) {
      const [key] = keys as [string];
      const res = await fetch(`${url}/api/tokens/deduct`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': key },
        body: JSON.stringify({ account: accountOf(key), feature: 'outbound_call_single' }),
      });
      return [outcomeOf(res.status, (await res.json()) as Record<string, unknown>)];
    }
    const res = await fetch(`${url}/api/tokens/deduct/batch`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        deductions: keys.map((key) => ({
          account: accountOf(key),
          feature: 'outbound_call_single',
          idempotency_key: key,
        })),
      }),
    });
    const body = (await res.json()) as { results?: Record<string, unknown>[] };
    if (res.status !== 200 || !Array.isArray(body.results)) return keys.map(() => ({ kind: 'lost' }));
    results = body.results;
  } catch {
    return keys.map(() => ({ kind: 'lost' }));
  }
  assert.equal(results.length, keys.length, 'the batch route answers one result per item');
  // An item answered 200 inside the batch carries its own status: success, or a code.
  return results.map((r) => outcomeOf(r.success === true ? 200 : 0, r));
}

export interface CrashLoopReport {
  rounds: number;
  /** Deductions acknowledged before a crash. */
  acknowledged: number;
  /** Deductions whose answer a crash cut off. */
  lost: number;
  /** Of the lost ones: retried and found already committed (replayed), or charged by the retry. */
  lostButCommitted: number;
  lostAndRecharged: number;
}

/**
 * Runs `rounds` crashes against `databaseUrl` and asserts every property; returns the counts.
 * `batch`: items a request, sent through `POST /api/tokens/deduct/batch` (default: the single route).
 */
export async function runCrashLoop(
  databaseUrl: string,
  rounds: number,
  options: { batch?: number } = {},
): Promise<CrashLoopReport> {
  const perRequest = options.batch ?? 1;
  const acknowledged = new Map<string, number>();
  const report: CrashLoopReport = { rounds, acknowledged: 0, lost: 0, lostButCommitted: 0, lostAndRecharged: 0 };
  let seq = 0;
  for (let round = 0; round < rounds; round++) {
    const server = await startServerProcess({ databaseUrl });
    const lost: string[] = [];
    let inFlight = 0;
    // A server that dies on its own also ends the round (and its requests count as lost).
    let killed = false;
    void server.exited.then(() => {
      killed = true;
    });
    // Kill after a number of answers that varies by round, so the crash lands at a different
    // point of the write each time.
    const killAfter = 20 + ((round * 37) % 60);
    await new Promise<void>((resolve) => {
      let answered = 0;
      const next = (): void => {
        if (killed) {
          if (inFlight === 0) resolve();
          return;
        }
        const keys = Array.from({ length: perRequest }, () => `k-${round}-${seq++}`);
        inFlight++;
        void send(server.url, keys, options.batch !== undefined).then((outcomes) => {
          inFlight--;
          outcomes.forEach((r, i) => {
            const key = keys[i] as string;
            if (r.kind === 'acknowledged') {
              acknowledged.set(key, r.entryId);
              report.acknowledged++;
            } else if (r.kind === 'lost') lost.push(key);
            if (r.kind !== 'lost') answered++;
          });
          if (!killed && answered >= killAfter) {
            killed = true;
            server.child.kill('SIGKILL');
          }
          next();
        });
      };
      for (let i = 0; i < IN_FLIGHT; i++) next();
    });
    await server.exited;
    report.lost += lost.length;
    // Restart and retry every request whose answer was lost, with its idempotency key.
    const restarted = await startServerProcess({ databaseUrl });
    try {
      for (const key of lost) {
        const [r] = (await send(restarted.url, [key], options.batch !== undefined)) as [Outcome];
        assert.notEqual(r.kind, 'lost', `retry of ${key} after the restart failed:\n${restarted.logTail()}`);
        if (r.kind !== 'acknowledged') continue;
        acknowledged.set(key, r.entryId);
        if (r.replayed) report.lostButCommitted++;
        else report.lostAndRecharged++;
      }
    } finally {
      await restarted.stop();
    }
  }

  assert.ok(report.lost > 0, 'the crashes cut requests in flight (otherwise this tested nothing)');
  const ledger = await openLedger({ databaseUrl, env: {} });
  try {
    const byKey = new Map<string, number>();
    let cursor: string | null = null;
    do {
      const page = await ledger.operator.ledger({ kind: 'debit', limit: 1000, cursor });
      for (const e of page.entries) {
        if (!e.idempotencyKey) continue;
        assert.equal(byKey.has(e.idempotencyKey), false, `key ${e.idempotencyKey} was charged twice`);
        byKey.set(e.idempotencyKey, e.id);
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    for (const [key, entryId] of acknowledged) {
      assert.equal(byKey.get(key), entryId, `acknowledged ${key} (entry ${entryId}) is not in the ledger`);
    }
    assert.equal(byKey.size, acknowledged.size, 'every charge in the ledger was acknowledged, at first or on retry');
    assert.deepEqual((await ledger.reconcile()).drift, []);
  } finally {
    await ledger.close();
  }
  return report;
}

/** One line for the test's diagnostics. */
export function describeCrashLoop(r: CrashLoopReport): string {
  return (
    `${r.rounds} crashes: ${r.acknowledged} deductions acknowledged, ${r.lost} cut off by a crash ` +
    `(retried with their keys: ${r.lostButCommitted} had committed and replayed, ${r.lostAndRecharged} charged by the retry)`
  );
}
