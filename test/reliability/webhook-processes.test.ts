// Delivery across processes and crashes: two server processes on one PostgreSQL database deliver
// every event, each once, to a real receiver; a server killed with SIGKILL right after the commit
// of a deduction that crossed a threshold delivers its event after a restart.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';
import { call } from '../helpers/server-call.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const WEBHOOK_ENV = { TOKENMETER_WEBHOOK_ALLOW_PRIVATE: 'true', TOKENMETER_WEBHOOK_RETRY_BASE_MS: '100' };

/** A receiver counting requests per `webhook-id`; `until(n)` resolves once n distinct ids came. */
function receiver(port = 0) {
  const counts = new Map<string, number>();
  const waiters: { n: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      res.statusCode = 200;
      res.end();
      for (const w of waiters.filter((w) => counts.size >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  server.listen(port, '127.0.0.1');
  return {
    server,
    counts,
    ready: once(server, 'listening').then(() => (server.address() as AddressInfo).port),
    until: (n: number) =>
      counts.size >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

async function addHook(url: string, port: number): Promise<void> {
  const r = await call(url, 'POST', '/api/admin/webhooks', {
    as: 'admin',
    body: { url: `http://127.0.0.1:${port}/h` },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

describe('webhook delivery across processes and crashes', { timeout: 120_000 }, () => {
  const servers: ServerProcess[] = [];
  const receivers: Server[] = [];
  after(async () => {
    for (const s of servers) await s.kill();
    for (const r of receivers) r.close();
  });

  it('two server processes on PostgreSQL deliver every event, each exactly once', async (t) => {
    const skip = await pgSuiteSkip();
    if (skip) return t.skip(skip);
    const db: TestDatabase = await createTestDatabase();
    try {
      const rx = receiver();
      receivers.push(rx.server);
      const port = await rx.ready;
      const a = await startServerProcess({ databaseUrl: db.url, env: WEBHOOK_ENV });
      const b = await startServerProcess({ databaseUrl: db.url, env: WEBHOOK_ENV });
      servers.push(a, b);
      await addHook(a.url, port);
      // 20 free accounts (100 tokens, threshold 10), each spent to zero through both servers at
      // once: balance.low and balance.depleted for each, 40 events.
      const accounts = Array.from({ length: 20 }, (_, i) => `p-${i}`);
      await Promise.all(
        accounts.flatMap((account) =>
          Array.from({ length: 20 }, (_, i) =>
            call(i % 2 === 0 ? a.url : b.url, 'POST', '/api/tokens/deduct', {
              body: { account, feature: 'social_post', quantity: 5 },
            }),
          ),
        ),
      );
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ id: string }>('SELECT id FROM events');
      await client.end();
      assert.equal(rows.length, 40);
      await rx.until(40);
      assert.deepEqual(new Set(rx.counts.keys()), new Set(rows.map((r) => r.id)));
      assert.deepEqual([...new Set(rx.counts.values())], [1], 'no event was sent twice');
    } finally {
      for (const s of servers.splice(0)) await s.kill();
      await db.drop();
    }
  });

  it('an event committed just before a SIGKILL is delivered after the restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-webhook-kill-'));
    try {
      const databaseUrl = `sqlite:${join(dir, 'tokens.db')}`;
      // A port nobody listens on yet: the first tries are refused.
      const probe = receiver();
      const port = await probe.ready;
      probe.server.close();
      await once(probe.server, 'close');
      const first = await startServerProcess({ databaseUrl, env: WEBHOOK_ENV });
      servers.push(first);
      await addHook(first.url, port);
      const r = await call(first.url, 'POST', '/api/tokens/deduct', {
        body: { account: 'k', feature: 'social_post', quantity: 95 },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await first.kill();
      const db = new DatabaseSync(join(dir, 'tokens.db'));
      const events = db.prepare("SELECT id FROM events WHERE type = 'balance.low'").all() as { id: string }[];
      db.close();
      assert.equal(events.length, 1, 'the event was committed with the deduction');
      const rx = receiver(port);
      receivers.push(rx.server);
      await rx.ready;
      const second = await startServerProcess({ databaseUrl, env: WEBHOOK_ENV });
      servers.push(second);
      await rx.until(1);
      assert.deepEqual([...rx.counts.entries()], [[events[0]?.id, 1]]);
    } finally {
      for (const s of servers.splice(0)) await s.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
