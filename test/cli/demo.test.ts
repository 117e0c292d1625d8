import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freshDb, parseJson, runCli, tempDir, ZERO_MESSAGE } from './cli-helpers.ts';

const dir = tempDir();

describe('tokenmeter demo', () => {
  const cwd = path.join(dir, 'work');
  fs.mkdirSync(cwd);
  const untouched = freshDb(dir);

  it('tells the seed story on ./data/demo.db and exits 0', () => {
    const run = runCli(['demo'], { databaseUrl: untouched, cwd });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.includes('Call 1: balance 100 → 99'), run.stdout);
    assert.ok(run.stdout.includes('Call 2: balance 99 → 98'));
    assert.ok(run.stdout.includes('Call 3: balance 98 → 97'));
    assert.ok(run.stdout.includes(ZERO_MESSAGE));
    assert.ok(run.stdout.includes('features_disabled: true'));
    assert.match(run.stdout, /tokens_100 \(100 tokens/);
    assert.match(run.stdout, /Call 102: balance 100 → 99/);
    assert.match(run.stdout, /no drift/);
    assert.match(run.stdout, /tokenmeter balance 7 --json/);
    assert.ok(run.stdout.trim().split('\n').length <= 40, 'under 40 lines');
    assert.ok(!run.stdout.includes('"level"'), 'no log lines on stdout');
    assert.ok(fs.existsSync(path.join(cwd, 'data', 'demo.db')));
    // DATABASE_URL is not the demo's database: the real ledger is never touched.
    assert.ok(!fs.existsSync(untouched.slice('sqlite:'.length)));
  });

  it('tells the same story on a second run (the database is recreated)', () => {
    const first = runCli(['demo'], { databaseUrl: untouched, cwd });
    const second = runCli(['demo'], { databaseUrl: untouched, cwd });
    assert.equal(second.status, 0);
    assert.equal(second.stdout, first.stdout);
    const balance = runCli(['balance', '7', '--json'], { databaseUrl: `sqlite:${path.join(cwd, 'data', 'demo.db')}` });
    assert.equal(parseJson(balance).balance, 99);
  });

  it('--database uses another database, and refuses one that already has account 7', () => {
    const other = freshDb(dir);
    const run = runCli(['demo', '--database', other, '--json'], { databaseUrl: untouched, cwd });
    assert.equal(run.status, 0, run.stderr);
    const doc = parseJson(run);
    assert.equal(doc.success, true);
    assert.ok((doc.narration as string[]).includes(`  ${ZERO_MESSAGE}`));
    assert.equal((doc.balance as Record<string, unknown>).balance, 99);

    const again = runCli(['demo', '--database', other], { databaseUrl: untouched, cwd });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already has account 7/);
    assert.ok(fs.existsSync(other.slice('sqlite:'.length)), 'nothing deleted');
  });
});
