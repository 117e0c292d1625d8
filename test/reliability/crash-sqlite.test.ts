// Crash safety on the embedded store: `kill -9` the server while deductions are in flight,
// restart it on the same file, and check that nothing acknowledged was lost and nothing is
// charged twice. CRASH_ROUNDS raises the count for long runs (the issue asks 20; the fast run 3).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { openLedger } from '../../src/ledger/open-ledger.ts';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const KEY = 'tm_app_crash_test_key_0123456789abcdefgh';

async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TOKENMETER_API_KEY: KEY,
      LOG_LEVEL: 'info',
      NODE_TEST_CONTEXT: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr ?? process.stdin });
  for await (const line of lines) {
    const match = /tokenmeter serving (http:\/\/[^\s"]+)/.exec(line);
    if (match?.[1]) return { child, url: match[1] };
  }
  throw new Error('the server exited before it listened');
}

type Outcome = 'acknowledged' | 'refused' | 'lost';

async function deduct(url: string, key: string): Promise<{ outcome: Outcome; entryId?: number }> {
  try {
    const res = await fetch(`${url}/api/tokens/deduct`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ account: `acct-${Number(key.split('-').at(-1)) % 50}`, feature: 'outbound_call_single' }),
    });
    const body = (await res.json()) as { entry_id?: number };
    if (res.status === 200) return { outcome: 'acknowledged', ...(body.entry_id ? { entryId: body.entry_id } : {}) };
    return { outcome: res.status === 402 ? 'refused' : 'lost' };
  } catch {
    return { outcome: 'lost' };
  }
}

describe('kill -9 under load (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`${ROUNDS} crashes: every acknowledged deduction survives once; every lost one, retried with its key, is charged once`, async () => {
    const databaseUrl = `sqlite:${join(dir, 'tokens.db')}`;
    const acknowledged = new Map<string, number>();
    let seq = 0;
    let lostTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { child, url } = await startServer(databaseUrl);
      const lost: string[] = [];
      let inFlight = 0;
      let killed = false;
      const exited = once(child, 'exit');
      // A server that dies on its own also ends the round (and its requests count as lost).
      child.once('exit', () => {
        killed = true;
      });
      // Keep 16 deductions in flight; kill the server after a number of answers that varies by
      // round, so the crash lands at a different point of the write each time.
      const killAfter = 20 + ((round * 37) % 60);
      await new Promise<void>((resolve) => {
        let answered = 0;
        const next = (): void => {
          if (killed) {
            if (inFlight === 0) resolve();
            return;
          }
          const key = `k-${round}-${seq++}`;
          inFlight++;
          void deduct(url, key).then((r) => {
            inFlight--;
            if (r.outcome === 'acknowledged' && r.entryId) acknowledged.set(key, r.entryId);
            else if (r.outcome === 'lost') lost.push(key);
            if (r.outcome !== 'lost') answered++;
            if (!killed && answered >= killAfter) {
              killed = true;
              child.kill('SIGKILL');
            }
            next();
          });
        };
        for (let i = 0; i < 16; i++) next();
      });
      await exited;
      lostTotal += lost.length;
      // Restart and retry every request whose answer was lost, with its idempotency key.
      const restarted = await startServer(databaseUrl);
      for (const key of lost) {
        const r = await deduct(restarted.url, key);
        assert.notEqual(r.outcome, 'lost', `retry of ${key} after the restart failed`);
        if (r.outcome === 'acknowledged' && r.entryId) acknowledged.set(key, r.entryId);
      }
      restarted.child.kill('SIGTERM');
      await once(restarted.child, 'exit');
    }

    assert.ok(lostTotal > 0, 'the crashes cut requests in flight (otherwise this tested nothing)');
    const ledger = await openLedger({ databaseUrl, env: {} });
    try {
      const debits = [];
      let cursor: string | null = null;
      do {
        const page = await ledger.operator.ledger({ kind: 'debit', limit: 1000, cursor });
        debits.push(...page.entries);
        cursor = page.nextCursor;
      } while (cursor !== null);
      const byKey = new Map<string, number>();
      for (const e of debits) {
        if (!e.idempotencyKey) continue;
        assert.equal(byKey.has(e.idempotencyKey), false, `key ${e.idempotencyKey} was charged twice`);
        byKey.set(e.idempotencyKey, e.id);
      }
      for (const [key, entryId] of acknowledged) {
        assert.equal(byKey.get(key), entryId, `acknowledged ${key} (entry ${entryId}) is not in the ledger`);
      }
      assert.equal(byKey.size, acknowledged.size, 'every charge in the ledger was acknowledged, now or on retry');
      assert.deepEqual((await ledger.reconcile()).drift, []);
    } finally {
      await ledger.close();
    }
  });
});
