import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const DAY_MS = 86_400_000;
// The CLI runs on the system clock: a fixed time far enough ahead stays in the future.
const LATER = '2099-01-01T00:00:00Z';

type Json = Record<string, unknown>;

describe('grant, grants, void-grant', () => {
  it('grants promotional tokens with --expires-in; balance shows them, their expiry and the burn order', () => {
    const db = freshDb(dir);
    const before = Date.now();
    const doc = runJson(
      // 20 days: sooner than the plan's cycle end in any month (30 days would tie with it when the
      // month has 30 days, and the soonest expiry would then count both).
      ['grant', '7', '--tokens', '50', '--category', 'promotional', '--expires-in', '20d', '--reason', 'Welcome'],
      db,
    );
    assert.equal(doc.success, true);
    const g = doc.grant as Json;
    assert.deepEqual(Object.keys(g).sort(), [
      'account',
      'category',
      'effective_at',
      'expires_at',
      'id',
      'priority',
      'remaining',
      'status',
      'tokens',
    ]);
    assert.equal(g.account, '7');
    assert.equal(g.category, 'promotional');
    assert.equal(g.remaining, 50);
    assert.equal(g.status, 'active');
    const expires = Date.parse(String(g.expires_at));
    assert.ok(expires >= before + 20 * DAY_MS && expires <= Date.now() + 20 * DAY_MS, String(g.expires_at));

    const balance = runJson(['balance', '7'], db);
    assert.equal(balance.balance, 150);
    assert.equal(balance.promotional, 50);
    assert.equal(balance.debt, 0);
    assert.deepEqual(balance.expiring_next, { at: g.expires_at, tokens: 50 });
    const grants = balance.grants as Json[];
    assert.equal(grants.length, 2);
    assert.deepEqual(grants[0], {
      id: g.id,
      category: 'promotional',
      remaining: 50,
      priority: 50,
      expires_at: g.expires_at,
    });

    const human = runCli(['balance', '7'], { databaseUrl: db });
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /allocation 100, purchased 0, promotional 50, debt 0, held 0/);
    assert.match(human.stdout, new RegExp(`expiring next: 50 tokens on ${String(g.expires_at).replace('.', '\\.')}`));
    assert.match(human.stdout, new RegExp(`#${g.id} promotional: 50 left, priority 50, until `));
  });

  it('grants paid tokens with --expires-at and --priority, in words without --json', () => {
    const db = freshDb(dir);
    const run = runCli(
      [
        'grant',
        '8',
        '--tokens',
        '25',
        '--category',
        'paid',
        '--expires-at',
        LATER,
        '--priority',
        '10',
        '--reason',
        'x',
      ],
      { databaseUrl: db },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      run.stdout,
      /^Grant #\d+: 25 tokens paid to account 8, expires 2099-01-01T00:00:00\.000Z, priority 10; balance now 125 \(available 125\)\n$/,
    );
    const never = runJson(['grant', '8', '--tokens', '5', '--category', 'paid', '--reason', 'goodwill'], db);
    assert.equal((never.grant as Json).expires_at, null);
    assert.equal(runJson(['balance', '8'], db).purchased, 30);
  });

  it('a --reference makes the grant once; other parameters with it are idempotency_conflict', () => {
    const db = freshDb(dir);
    const args = [
      'grant',
      '7',
      '--tokens',
      '20',
      '--category',
      'promotional',
      '--reference',
      'outage-1',
      '--reason',
      'sorry',
    ];
    const first = runJson(args, db);
    const again = runJson(args, db);
    assert.deepEqual(again, first);
    assert.equal(runJson(['balance', '7'], db).balance, 120);
    const conflict = runJson(
      ['grant', '7', '--tokens', '21', '--category', 'promotional', '--reference', 'outage-1', '--reason', 'sorry'],
      db,
      1,
    );
    assert.equal(conflict.code, 'idempotency_conflict');
    assert.equal(runJson(['balance', '7'], db).balance, 120);
  });

  it('grants lists the live grants newest first, --all also the voided; void-grant voids once', () => {
    const db = freshDb(dir);
    const a = runJson(['grant', '7', '--tokens', '10', '--category', 'promotional', '--reason', 'a'], db).grant as Json;
    const b = runJson(['grant', '7', '--tokens', '20', '--category', 'paid', '--reason', 'b'], db).grant as Json;

    const voided = runJson(['void-grant', String(a.id), '--reason', 'abuse'], db);
    assert.equal(voided.success, true);
    assert.equal((voided.grant as Json).status, 'voided');
    assert.equal((voided.grant as Json).remaining, 0);
    assert.equal(runJson(['balance', '7'], db).balance, 120);
    const twice = runCli(['void-grant', String(a.id), '--reason', 'abuse'], { databaseUrl: db });
    assertFails(twice, 'not active');

    const live = runJson(['grants', '7'], db);
    assert.equal(live.account, '7');
    const liveIds = (live.grants as Json[]).map((g) => g.id);
    assert.equal(liveIds[0], b.id);
    assert.ok(!liveIds.includes(a.id), 'a voided grant is not live');
    const all = runJson(['grants', '7', '--all'], db);
    const allIds = (all.grants as Json[]).map((g) => g.id as number);
    assert.deepEqual(allIds.slice(0, 2), [b.id, a.id]);
    assert.deepEqual(
      allIds,
      [...allIds].sort((x, y) => y - x),
      'newest first',
    );

    const human = runCli(['grants', '7', '--all'], { databaseUrl: db });
    assert.equal(human.status, 0, human.stderr);
    assert.match(
      human.stdout,
      new RegExp(`^#${a.id}  promotional  0/10 left  voided  priority 50  never expires  grant:#${a.id}  "a"$`, 'm'),
    );
    const none = runCli(['grants', 'nobody'], { databaseUrl: db });
    assert.equal(none.stdout, 'Account nobody: no live grants\n');
  });

  it('bad input: one error line, exit 1, nothing written', () => {
    const db = freshDb(dir);
    const grant = (...extra: string[]) =>
      runCli(['grant', '7', '--tokens', '10', '--reason', 'r', ...extra], { databaseUrl: db });
    assertFails(grant('--category', 'included'), "'included' is invalid");
    assertFails(grant('--category', 'promotional', '--priority', '101'), 'priority: must be between 0 and 100');
    assertFails(
      grant('--category', 'promotional', '--expires-at', '2020-01-01T00:00:00Z'),
      'expiresAt: is already past',
    );
    assertFails(grant('--category', 'promotional', '--expires-at', 'soon'), 'expiresAt: is not an ISO 8601 time');
    assertFails(
      grant('--category', 'promotional', '--expires-in', '30x'),
      'expiresIn: must be a number of days or hours',
    );
    assertFails(grant('--category', 'promotional', '--expires-in', '0d'), 'expiresIn:');
    assertFails(
      grant('--category', 'promotional', '--expires-in', '30d', '--expires-at', LATER),
      'cannot be used with',
    );
    assertFails(
      runCli(['grant', '7', '--tokens', '1.5', '--category', 'paid', '--reason', 'r'], { databaseUrl: db }),
      'tokens:',
    );
    assertFails(
      runCli(['grant', '7', '--tokens', '0', '--category', 'paid', '--reason', 'r'], { databaseUrl: db }),
      'tokens:',
    );
    assertFails(
      runCli(['grant', '7', '--tokens', '5', '--category', 'paid'], { databaseUrl: db }),
      "'--reason <text>'",
    );
    assertFails(runCli(['void-grant', '999', '--reason', 'r'], { databaseUrl: db }), 'id: no grant 999');
    assertFails(runCli(['void-grant', '999'], { databaseUrl: db }), "'--reason <text>'");

    const json = runCli(
      ['grant', '7', '--tokens', '10', '--category', 'paid', '--priority', '-1', '--reason', 'r', '--json'],
      {
        databaseUrl: db,
      },
    );
    assert.equal(json.status, 1);
    assert.equal(parseJson(json).code, 'invalid_request');
    assert.equal(runJson(['balance', '7'], db).balance, 100);
    assert.deepEqual(runJson(['grants', '7', '--all'], db).grants, []);
  });
});
