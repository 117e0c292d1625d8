import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';
import { legacySqlite, SEED_USER_7, seedIncidentLines, writeLog } from './legacy-helpers.ts';

const dir = tempDir();

/** The seed story in tokenmeter: imported, recovered, then two calls. */
function seedLedger(): string {
  const db = freshDb(dir);
  runJson(['import-legacy', '--source', `sqlite:${legacySqlite(dir, [SEED_USER_7])}`], db);
  runJson(['recover', '--logs', writeLog(dir, seedIncidentLines(58)), '--apply', '--reason', 'seed: 58 calls'], db);
  runJson(['deduct', '7', 'outbound_call_single'], db);
  runJson(['deduct', '7', 'outbound_call_single'], db);
  return db;
}

describe('export', () => {
  const db = seedLedger();

  it('--format json: one document, every entry oldest first', () => {
    const doc = runJson(['export', '--account', '7', '--format', 'json'], db);
    assert.equal(doc.success, true);
    assert.equal(doc.account, '7');
    assert.equal(doc.count, 4);
    const entries = doc.entries as Record<string, unknown>[];
    assert.deepEqual(
      entries.map((e) => [e.kind, e.amount, e.balance_after]),
      [
        ['opening_balance', 100, 100],
        ['adjustment', -58, 42],
        ['debit', -1, 41],
        ['debit', -1, 40],
      ],
    );
    assert.deepEqual(runJson(['export', '--account', '7'], db), doc, '--json is --format json');
  });

  it('--format csv: a header and one line per entry, oldest first', () => {
    const run = runCli(['export', '--account', '7', '--format', 'csv'], { databaseUrl: db });
    assert.equal(run.status, 0);
    const lines = run.stdout.split('\r\n');
    assert.equal(lines.at(-1), '');
    assert.equal(
      lines[0],
      'id,at,account,kind,amount,allocation_delta,purchased_delta,balance_after,feature,quantity,idempotency_key,source,reference,reason,actor,promotional_delta,debt_delta,grants,pool,pooled,member',
    );
    assert.deepEqual(
      lines.slice(1, -1).map((l) => l.split(',').slice(3, 5)),
      [
        ['opening_balance', '100'],
        ['adjustment', '-58'],
        ['debit', '-1'],
        ['debit', '-1'],
      ],
    );
    assert.match(lines[2] ?? '', /,recover,logs-sha256:[0-9a-f]{64},seed: 58 calls,/);
  });

  it('--format csv: a pool member’s entry names its pool and what the pool paid; the pool’s names the member', () => {
    const pools = freshDb(dir);
    runJson(['deduct', 'agency', 'outbound_call_single'], pools);
    runJson(['pool', 'add', 'agency', 'client'], pools);
    runJson(['deduct', 'client', 'crm_ai_agent'], pools);
    const lastRow = (account: string): Record<string, string> => {
      const run = runCli(['export', '--account', account, '--format', 'csv'], { databaseUrl: pools });
      assert.equal(run.status, 0, run.stderr);
      const [header = '', ...rows] = run.stdout.split('\r\n').filter((l) => l !== '');
      const cells = rows.at(-1)?.split(',') ?? [];
      return Object.fromEntries(header.split(',').map((column, i) => [column, cells[i] ?? '']));
    };
    const member = lastRow('client');
    assert.deepEqual(
      [member.kind, member.amount, member.pool, member.pooled, member.member],
      ['debit', '0', 'agency', '2', ''],
    );
    const pool = lastRow('agency');
    assert.deepEqual([pool.kind, pool.amount, pool.pool, pool.pooled, pool.member], ['debit', '-2', '', '0', 'client']);
  });

  it('an unknown account fails with not_found, as JSON too', () => {
    assertFails(runCli(['export', '--account', '8', '--format', 'csv'], { databaseUrl: db }), 'does not exist');
    const json = runCli(['export', '--account', '8', '--json'], { databaseUrl: db });
    assert.equal(json.status, 1);
    assert.equal(parseJson(json).code, 'not_found');
  });

  it('refuses a format it does not know, and --json with --format csv', () => {
    const bad = runCli(['export', '--account', '7', '--format', 'xml'], { databaseUrl: db });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /xml/);
    const both = runCli(['export', '--account', '7', '--format', 'csv', '--json'], { databaseUrl: db });
    assert.equal(both.status, 1);
    assert.equal(parseJson(both).code, 'invalid_request');
  });
});
