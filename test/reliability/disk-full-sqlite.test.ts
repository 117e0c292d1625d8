// The embedded store on a full disk: the server runs on a SQLite file in a small tmpfs of the
// test's own, the disk is filled to the last page under a stream of keyed deductions, and then
// freed. While it is full, writes must fail cleanly (503 `unavailable` JSON, the process alive,
// reads still served); nothing acknowledged may be lost; once the space is back the same
// process writes again, and every failed deduction retried with its key is charged exactly once.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLedger } from '../../src/ledger/open-ledger.ts';
import { call } from '../helpers/server-call.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';
import { mountTmpfs, type Tmpfs, tmpfsSkip } from '../helpers/tmpfs.ts';

const ACCOUNTS = 20;
const MAX_ATTEMPTS = 4000; // deductions sent on the full disk before giving up on seeing one fail
const FAILURES_WANTED = 30;
const PRE_FILL_WRITES = 800;

interface Answer {
  key: string;
  account: string;
  status: number;
  body: Record<string, unknown>;
}

const deduct = async (url: string, key: string, account: string): Promise<Answer> => ({
  key,
  account,
  ...(await call(url, 'POST', '/api/tokens/deduct', {
    body: { account, feature: 'outbound_call_single', idempotency_key: key },
  })),
});

describe('SQLite on a full disk', { skip: tmpfsSkip(), timeout: 120_000 }, () => {
  let disk: Tmpfs | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.kill();
    disk?.remove();
  });

  it('refuses writes with 503 unavailable while full, loses nothing acknowledged, and writes again once space is back', async (t) => {
    // Room for the WAL, which may grow to ~40 MB between checkpoints (sqlite-connection.ts);
    // the filler then takes the rest.
    disk = mountTmpfs(64 << 20);
    const databaseUrl = `sqlite:${disk.dir}/tokens.db`;
    server = await startServerProcess({ databaseUrl });
    const { url } = server;
    for (let i = 0; i < ACCOUNTS; i++) {
      const r = await call(url, 'POST', `/api/admin/accounts/acct-${i}/adjust`, {
        as: 'admin',
        body: { balance: 100_000, reason: 'disk-full test' },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const acknowledged = new Map<string, number>();
    const failed: Answer[] = [];
    let seq = 0;
    const send = async () => {
      const key = `full-${seq}`;
      const a = await deduct(url, key, `acct-${seq++ % ACCOUNTS}`);
      if (a.status === 200) acknowledged.set(a.key, a.body.entry_id as number);
      else failed.push(a);
      return a;
    };
    // Writes that grow the WAL, then a checkpoint (the server's own comes only every 10,000
    // pages): on the full disk the first writes reuse the WAL's space and succeed; the ones that
    // need more fail.
    for (let i = 0; i < PRE_FILL_WRITES / 8; i++) await Promise.all(Array.from({ length: 8 }, send));
    assert.equal(failed.length, 0, 'writes succeed before the disk is full');
    const checkpointer = new DatabaseSync(`${disk.dir}/tokens.db`);
    try {
      const done = checkpointer.prepare('PRAGMA wal_checkpoint(PASSIVE)').get();
      assert.ok(done && Number(done.checkpointed) > 0, `the checkpoint copied pages back: ${JSON.stringify(done)}`);
    } finally {
      checkpointer.close();
    }
    const beforeFull = acknowledged.size;

    // --- full: keep writing (8 at a time) until enough writes have failed -----------------------
    const filled = disk.fill();
    let attempts = 0;
    while (failed.length < FAILURES_WANTED && attempts < MAX_ATTEMPTS) {
      attempts += 8;
      await Promise.all(Array.from({ length: 8 }, send));
    }
    t.diagnostic(
      `filled ${filled} bytes; ${attempts} deductions on the full disk: ${acknowledged.size - beforeFull} acknowledged ` +
        `(space the database already had), ${failed.length} failed: ${String(failed[0]?.body.error)}`,
    );
    assert.ok(failed.length > 0, `no write failed in ${attempts} attempts on a full disk`);
    const unclean = failed.filter((a) => a.status !== 503 || a.body.code !== 'unavailable');
    assert.deepEqual(unclean, [], 'every failure is a 503 unavailable JSON answer');
    assert.match(String(failed[0]?.body.error), /full/i, 'the message says the disk is full');
    assert.equal(server.child.exitCode, null, 'the server is still running');
    const read = await call(url, 'GET', '/api/tokens/balance?account=acct-0');
    assert.equal(read.status, 200, `reads are still served: ${JSON.stringify(read.body)}`);

    // --- space back: the same process writes again ----------------------------------------------
    disk.free();
    const retried = new Map<string, Answer>();
    const deadline = Date.now() + 30_000;
    let stillFailing = 0;
    for (const f of failed) {
      let r = await deduct(url, f.key, f.account);
      while (r.status === 503 && Date.now() < deadline) {
        stillFailing++;
        await sleep(50);
        r = await deduct(url, f.key, f.account);
      }
      retried.set(f.key, r);
    }
    t.diagnostic(`space freed: ${stillFailing} retries still failed before the first write went through`);
    const notCharged = [...retried.values()].filter((r) => r.status !== 200);
    assert.deepEqual(notCharged, [], 'every failed deduction, retried with its key once space is back, is charged');
    const replayed = [...retried.values()].filter((r) => r.body.replayed === true);
    assert.deepEqual(replayed, [], 'a deduction answered 503 had not been charged');
    for (const [key, r] of retried) acknowledged.set(key, r.body.entry_id as number);
    await server.stop();

    // --- after a restart: every acknowledged deduction exactly once, the file intact -------------
    const db = new DatabaseSync(`${disk.dir}/tokens.db`);
    try {
      assert.equal(db.prepare('PRAGMA integrity_check').get()?.integrity_check, 'ok');
    } finally {
      db.close();
    }
    const ledger = await openLedger({ databaseUrl, env: {} });
    try {
      const byKey = new Map<string, number>();
      let cursor: string | null = null;
      do {
        const page = await ledger.operator.ledger({ kind: 'debit', limit: 1000, cursor });
        for (const e of page.entries) {
          assert.equal(byKey.has(e.idempotencyKey ?? ''), false, `${e.idempotencyKey} charged twice`);
          byKey.set(e.idempotencyKey ?? '', e.id);
        }
        cursor = page.nextCursor;
      } while (cursor !== null);
      assert.deepEqual(byKey, acknowledged, 'the ledger holds exactly the acknowledged deductions');
      assert.deepEqual((await ledger.reconcile()).drift, []);
    } finally {
      await ledger.close();
    }
  });
});
