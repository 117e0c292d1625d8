import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();

/** A database with the account `agency` opened (the free plan's 100 tokens, one spent). */
function withPool(): string {
  const db = freshDb(dir);
  runJson(['deduct', 'agency', 'outbound_call_single'], db);
  return db;
}

function human(args: string[], db: string): string {
  const run = runCli(args, { databaseUrl: db });
  assert.equal(run.status, 0, `exit ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return run.stdout;
}

type Json = Record<string, unknown>;
const membersOf = (db: string) => runJson(['pool', 'members', 'agency'], db).members as Json[];

describe('tokenmeter pool', () => {
  it('add with --limit makes a member that spends the pool’s tokens within its limit', () => {
    const db = withPool();
    const line = human(['pool', 'add', 'agency', 'client', '--limit', '20'], db);
    assert.equal(
      line,
      'Account client is a member of pool agency: limit 20 tokens per pool cycle, used 0 this cycle, 20 remaining\n',
    );
    const balance = runJson(['balance', 'client'], db);
    assert.deepEqual(balance.pool, {
      id: 'agency',
      available: 99,
      limit_per_cycle: 20,
      used_this_cycle: 0,
      remaining_this_cycle: 20,
    });
    assert.equal(balance.available, 20);
    assert.match(
      human(['balance', 'client'], db),
      /member of pool agency \(99 available there\): limit 20 tokens per pool cycle, 20 remaining, used 0 this cycle/,
    );

    const charged = runJson(['deduct', 'client', 'business_collector'], db);
    assert.equal(charged.pooled, 5);
    assert.equal(runJson(['balance', 'agency'], db).balance, 94);
    const [member] = membersOf(db);
    assert.equal(member?.used_this_cycle, 5);
    assert.equal(member?.remaining_this_cycle, 15);
  });

  it('--json answers the membership as the HTTP API does; add again replaces the limit and keeps usage', () => {
    const db = withPool();
    const doc = runJson(['pool', 'add', 'agency', 'client'], db);
    assert.equal(doc.success, true);
    const membership = doc.membership as Json;
    assert.deepEqual(Object.keys(membership), [
      'pool',
      'member',
      'limit_per_cycle',
      'used_this_cycle',
      'held',
      'remaining_this_cycle',
      'cycle_start',
      'joined_at',
    ]);
    assert.equal(membership.limit_per_cycle, null, 'no --limit: no limit');
    assert.equal(membership.remaining_this_cycle, null);

    runJson(['deduct', 'client', 'crm_ai_agent'], db);
    const changed = runJson(['pool', 'add', 'agency', 'client', '--limit', '3'], db).membership as Json;
    assert.deepEqual(
      [changed.limit_per_cycle, changed.used_this_cycle, changed.remaining_this_cycle, changed.joined_at],
      [3, 2, 1, membership.joined_at],
    );
  });

  it('members lists each member by id, and says so when there are none', () => {
    const db = withPool();
    assert.match(human(['pool', 'members', 'agency'], db), /^Pool agency has no members\./);
    runJson(['pool', 'add', 'agency', 'seat-b'], db);
    runJson(['pool', 'add', 'agency', 'seat-a', '--limit', '1'], db);
    const out = human(['pool', 'members', 'agency'], db).split('\n');
    assert.match(out[0] ?? '', /^Pool agency: 2 members, cycle since \d{4}-\d{2}-\d{2}T/);
    assert.deepEqual(out.slice(1), [
      '  seat-a: limit 1 token per pool cycle, used 0 this cycle, 1 remaining',
      '  seat-b: no limit, used 0 this cycle',
      '',
    ]);
    assert.deepEqual(
      membersOf(db).map((m) => [m.member, m.limit_per_cycle]),
      [
        ['seat-a', 1],
        ['seat-b', null],
      ],
    );
  });

  it('remove takes the member out for its next operation; removing again fails with not_found', () => {
    const db = withPool();
    runJson(['pool', 'add', 'agency', 'client'], db);
    runJson(['deduct', 'client', 'outbound_call_single'], db);
    assert.equal(
      human(['pool', 'remove', 'client'], db),
      'Account client left pool agency; from now on it spends only its own tokens.\n',
    );
    assert.equal(runJson(['balance', 'client'], db).pool, null);
    // It has no tokens of its own until its plan renews it; what was charged stays with the pool.
    assert.equal(runJson(['deduct', 'client', 'outbound_call_single'], db, 2).code, 'insufficient_tokens');
    assert.deepEqual(membersOf(db), []);

    const again = runCli(['pool', 'remove', 'client', '--json'], { databaseUrl: db });
    assert.equal(again.status, 1);
    assert.equal(parseJson(again).code, 'not_found');
    assert.match(again.stderr, /^error: Account client is not a member of a pool$/m);
  });

  it('refuses bad input naming the option or argument, exit 1, nothing written', () => {
    const db = withPool();
    runJson(['pool', 'add', 'agency', 'member'], db);
    const cases: [string[], string][] = [
      [['pool', 'add', 'agency', 'client', '--limit', '-1'], 'limit: must be between 0 and'],
      [['pool', 'add', 'agency', 'agency'], 'pool: an account cannot join itself'],
      [['pool', 'add', 'member', 'client'], 'pool: member is a member of agency'],
      [['pool', 'add', 'nowhere', 'client'], 'Pool account nowhere does not exist'],
    ];
    for (const [args, fragment] of cases) assertFails(runCli(args, { databaseUrl: db }), fragment);
    const json = runCli(['pool', 'add', 'agency', 'client', '--limit', '1.5', '--json'], { databaseUrl: db });
    assert.equal(json.status, 1);
    assert.deepEqual(parseJson(json), {
      success: false,
      code: 'invalid_request',
      error: 'limit: must be an integer, got "1.5"',
    });
    assert.deepEqual(
      membersOf(db).map((m) => m.member),
      ['member'],
    );
    assert.equal(runJson(['balance', 'client'], db).exists, false);

    // A pool with members cannot become a member of another pool.
    runJson(['deduct', 'other', 'outbound_call_single'], db);
    assertFails(runCli(['pool', 'add', 'other', 'agency'], { databaseUrl: db }), 'member: agency is a pool');
  });
});
