// The pull API's promise on PostgreSQL: a follower paging with the cursor never misses an event.
// Positions are drawn before commit, so a slow transaction can commit a smaller position after a
// faster one committed a larger; the feed withholds an event until no transaction that could
// still commit a smaller position is open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventDraft } from '../../src/core/event.ts';
import { newEventId } from '../../src/ledger/working-account.ts';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import type { PgStore } from '../../src/store/postgres/pg-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';

const draft = (account: string): EventDraft => ({
  id: newEventId(),
  type: 'balance.depleted',
  account,
  at: 1,
  recordedAt: 1,
  data: { account, available: 0 },
  dedupeKey: null,
});

describe('GET /api/events on PostgreSQL with a slow committer', async () => {
  const skip = await pgSuiteSkip();
  let db: TestDatabase;
  let slow: PgStore;
  let fast: PgStore;

  before(async () => {
    if (skip) return;
    db = await createTestDatabase();
    slow = openPgStore({ url: db.url, allowExitOnIdle: true });
    fast = openPgStore({ url: db.url, allowExitOnIdle: true });
    await slow.migrate();
    const { ledger } = ledgerOn(fast);
    await ledger.createAccount({ account: 'slow' });
    await ledger.createAccount({ account: 'fast' });
  });
  after(async () => {
    if (skip) return;
    await slow.close();
    await fast.close();
    await db.drop();
  });

  it('withholds a later position until the earlier transaction ends, so a follower misses nothing', {
    skip,
  }, async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let drawn = () => {};
    const positionDrawn = new Promise<void>((resolve) => {
      drawn = resolve;
    });
    const early = draft('slow');
    const late = draft('fast');
    const slowWrite = slow.write(async (tx) => {
      await tx.lockAccount('slow');
      await tx.insertEvents([early]);
      drawn();
      await gate;
    });
    await positionDrawn;
    await fast.write(async (tx) => {
      await tx.lockAccount('fast');
      await tx.insertEvents([late]);
    });
    // The follower reads while the slow transaction is open: the committed later event is withheld.
    const page = await fast.service.listEvents({ after: 0, limit: 10, account: null });
    assert.deepEqual(page, []);
    release();
    await slowWrite;
    // A follower polls until the feed has moved past both: xids are the cluster's, so a
    // transaction another test runs on this server at the same moment can hold one or both
    // events back a little longer (the feed then shows the earlier alone, never the later).
    let all = await fast.service.listEvents({ after: 0, limit: 10, account: null });
    for (const deadline = Date.now() + 20_000; all.length < 2 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      all = await fast.service.listEvents({ after: 0, limit: 10, account: null });
    }
    assert.deepEqual(
      all.map((e) => e.id),
      [early.id, late.id],
    );
    assert.ok((all[0]?.position ?? 0) < (all[1]?.position ?? 0));
  });
});
