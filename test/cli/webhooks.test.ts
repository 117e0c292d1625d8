import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import { eventJson } from '../../src/events/events-wire.ts';
import { Webhooks } from '../../src/events/webhooks.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { assertFails, freshDb, type Json, MAIN, ROOT, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const URL_OK = 'https://hooks.example.com/tokenmeter';

/** What the feed holds, read straight from the database file (what `GET /api/events` would serve). */
async function feedOf(databaseUrl: string): Promise<Json[]> {
  const store = new SqliteStore({ path: databaseUrl.replace(/^sqlite:/, '') });
  try {
    const webhooks = new Webhooks({ outbox: store.service, clock: new ManualClock(0), allowPrivate: false });
    return (await webhooks.events({ after: 0, limit: 1000, account: null })).events.map(eventJson);
  } finally {
    await store.close();
  }
}

/** Lines of JSON on stdout, one document each. */
function jsonLines(stdout: string): Json[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Json);
}

const adjust = (db: string, account: string, ...how: string[]) =>
  runJson(['adjust', account, ...how, '--reason', 'test'], db);

describe('webhooks', () => {
  it('add → list → deliveries → retry → rotate-secret → remove', async () => {
    const db = freshDb(dir);
    const added = runJson(
      ['webhooks', 'add', '--url', URL_OK, '--events', 'balance.low, balance.depleted', '--description', 'billing'],
      db,
    );
    assert.equal(added.success, true);
    const w = added.webhook as Json;
    assert.match(String(w.id), /^whe_[0-9a-f]{24}$/);
    assert.match(String(w.secret), /^whsec_/);
    assert.deepEqual(w.events, ['balance.low', 'balance.depleted']);
    assert.equal(w.description, 'billing');

    const human = runCli(['webhooks', 'add', '--url', `${URL_OK}/all`], { databaseUrl: db });
    assert.equal(human.status, 0, human.stderr);
    const humanLines = human.stdout.trimEnd().split('\n');
    assert.match(
      humanLines[0] ?? '',
      /^Added webhook whe_[0-9a-f]{24} → https:\/\/hooks\.example\.com\/tokenmeter\/all \(every event type\)\.$/,
    );
    assert.match(humanLines.at(-1) ?? '', /^whsec_\S+$/, 'the secret, alone on the last line');

    const listed = runJson(['webhooks', 'list'], db);
    const endpoints = listed.webhooks as Json[];
    assert.equal(endpoints.length, 2);
    assert.deepEqual(endpoints[0], {
      id: w.id,
      url: URL_OK,
      events: ['balance.low', 'balance.depleted'],
      description: 'billing',
      created_at: w.created_at,
    });
    assert.ok(!JSON.stringify(listed).includes('whsec_'), 'list never shows a secret');
    const listedHuman = runCli(['webhooks', 'list'], { databaseUrl: db });
    assert.match(
      listedHuman.stdout,
      new RegExp(`^${w.id}  ${URL_OK}  balance\\.low, balance\\.depleted  created \\S+Z  "billing"$`, 'm'),
    );
    assert.ok(!listedHuman.stdout.includes('whsec_'));

    assert.deepEqual(runJson(['webhooks', 'deliveries', String(w.id)], db).deliveries, []);
    adjust(db, '7', '--amount', '-91');
    const deliveries = runJson(['webhooks', 'deliveries', String(w.id)], db).deliveries as Json[];
    assert.equal(deliveries.length, 1);
    const d = deliveries[0] as Json;
    const [event] = await feedOf(db);
    assert.equal(d.event_id, event?.id);
    assert.equal(d.type, 'balance.low');
    assert.equal(d.status, 'pending');
    assert.equal(d.attempts, 0);
    assert.equal(d.delivered_at, null);
    const deliveriesHuman = runCli(['webhooks', 'deliveries', String(w.id), '--limit', '5'], { databaseUrl: db });
    assert.match(
      deliveriesHuman.stdout,
      new RegExp(`^#${d.id}  balance\\.low  ${event?.id}  pending  0 attempts`, 'm'),
    );

    assert.deepEqual(runJson(['webhooks', 'retry', String(w.id), String(d.id)], db), { success: true });
    assertFails(runCli(['webhooks', 'retry', String(w.id), '999'], { databaseUrl: db }), 'no delivery 999');

    const rotated = runJson(['webhooks', 'rotate-secret', String(w.id)], db);
    assert.match(String(rotated.secret), /^whsec_/);
    assert.notEqual(rotated.secret, w.secret);

    assert.deepEqual(runJson(['webhooks', 'remove', String(w.id)], db), { success: true });
    assert.deepEqual(
      (runJson(['webhooks', 'list'], db).webhooks as Json[]).map((x) => x.id),
      [endpoints[1]?.id],
    );
    assertFails(runCli(['webhooks', 'remove', String(w.id)], { databaseUrl: db }), `no webhook ${w.id}`);
    const notFound = runJson(['webhooks', 'deliveries', String(w.id)], db, 1);
    assert.equal(notFound.code, 'not_found');
  });

  it('bad input: one error line naming the field, exit 1, nothing written', () => {
    const db = freshDb(dir);
    const add = (...args: string[]) => runCli(['webhooks', 'add', ...args], { databaseUrl: db });
    assertFails(add('--url', 'ftp://x'), 'url: only http and https');
    assertFails(add('--url', 'http://127.0.0.1/'), 'url: address 127.0.0.1 is private');
    assertFails(add('--url', URL_OK, '--events', 'balance.lower'), 'events: unknown event type "balance.lower"');
    assertFails(add('--events', 'balance.low'), "'--url <url>'");
    const json = runJson(['webhooks', 'add', '--url', 'ftp://x'], db, 1);
    assert.equal(json.code, 'invalid_request');
    assert.deepEqual(runJson(['webhooks', 'list'], db).webhooks, []);
    const id = String((runJson(['webhooks', 'add', '--url', URL_OK], db).webhook as Json).id);
    assertFails(runCli(['webhooks', 'deliveries', id, '--limit', '0'], { databaseUrl: db }), 'limit: must be 1 to 500');
    assertFails(runCli(['webhooks', 'retry', id, 'one'], { databaseUrl: db }), 'delivery_id: must be an integer');
  });

  it('TOKENMETER_WEBHOOK_ALLOW_PRIVATE=true lets a private address in', () => {
    const db = freshDb(dir);
    const run = runCli(['webhooks', 'add', '--url', 'http://127.0.0.1:9/hook', '--json'], {
      databaseUrl: db,
      env: { TOKENMETER_WEBHOOK_ALLOW_PRIVATE: 'true' },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal((runJson(['webhooks', 'list'], db).webhooks as Json[])[0]?.url, 'http://127.0.0.1:9/hook');
  });
});

describe('events', () => {
  it('--json prints what the feed has, one event per line, oldest first; pages with --limit and --after', async () => {
    const db = freshDb(dir);
    assert.equal(runCli(['events', '--json'], { databaseUrl: db }).stdout, '', 'nothing yet');
    adjust(db, '7', '--amount', '-91');
    adjust(db, '8', '--amount', '-95');
    adjust(db, '7', '--set-balance', '0');
    const feed = await feedOf(db);
    assert.deepEqual(
      feed.map((e) => [e.type, e.account, e.sequence]),
      [
        ['balance.low', '7', 1],
        ['balance.low', '8', 1],
        ['balance.depleted', '7', 2],
      ],
    );

    const all = runCli(['events', '--json'], { databaseUrl: db });
    assert.equal(all.status, 0, all.stderr);
    assert.deepEqual(jsonLines(all.stdout), feed);

    const first = runCli(['events', '--json', '--limit', '2'], { databaseUrl: db });
    assert.deepEqual(jsonLines(first.stdout), feed.slice(0, 2));
    const more = /More: tokenmeter events --after (\d+)/.exec(first.stderr);
    assert.ok(more?.[1], `a full page says where to go on:\n${first.stderr}`);
    const rest = runCli(['events', '--json', '--after', more[1]], { databaseUrl: db });
    assert.deepEqual(jsonLines(rest.stdout), feed.slice(2));

    const only8 = runCli(['events', '--json', '--account', '8'], { databaseUrl: db });
    assert.deepEqual(
      jsonLines(only8.stdout),
      feed.filter((e) => e.account === '8'),
    );

    const human = runCli(['events'], { databaseUrl: db });
    assert.equal(human.status, 0, human.stderr);
    const lines = human.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], `${feed[0]?.timestamp}  balance.low  7  #1  {"account":"7","available":9,"threshold":10}`);
    assert.match(lines[2] ?? '', /^\S+Z {2}balance\.depleted {2}7 {2}#2 {2}\{"account":"7","available":0\}$/);
    const page = runCli(['events', '--limit', '1'], { databaseUrl: db });
    assert.match(page.stdout, /^More: tokenmeter events --after \d+$/m);
  });

  it('bad options: one error line naming the field, exit 1', () => {
    const db = freshDb(dir);
    assertFails(runCli(['events', '--after', 'abc'], { databaseUrl: db }), 'after:');
    assertFails(runCli(['events', '--after', '-1'], { databaseUrl: db }), 'after:');
    assertFails(runCli(['events', '--limit', '1001'], { databaseUrl: db }), 'limit:');
    assertFails(runCli(['events', '--account', ' 7'], { databaseUrl: db }), 'account:');
    const json = runCli(['events', '--after', 'x', '--json'], { databaseUrl: db });
    assert.equal(json.status, 1);
    assert.equal((JSON.parse(json.stdout) as Json).code, 'invalid_request');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`--follow prints what is there, then new events as they happen, and exits 0 on ${signal}`, async () => {
      const db = freshDb(dir);
      adjust(db, '7', '--amount', '-91');
      const child = spawn(process.execPath, [MAIN, 'events', '--follow', '--json'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: db, LOG_LEVEL: 'warn', NODE_TEST_CONTEXT: '' },
      });
      const exited = once(child, 'exit');
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const seen: Json[] = [];
      let stopped = false;
      for await (const line of createInterface({ input: child.stdout })) {
        seen.push(JSON.parse(line) as Json);
        if (seen.length === 1) {
          // Happens while the follower is running; it must pick these up from its cursor.
          adjust(db, '7', '--set-balance', '0');
          adjust(db, '8', '--amount', '-95');
        }
        if (seen.length === 3 && !stopped) {
          stopped = true;
          child.kill(signal);
        }
      }
      const [code, killedBy] = await exited;
      assert.equal(killedBy, null, `ended by its own exit, not by ${signal}`);
      assert.equal(code, 0, stderr);
      assert.deepEqual(seen, await feedOf(db), 'each event once, in order');
    });
  }
});
