import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { freshDb, MAIN, ROOT, runCli, runJson, tempDir } from './cli-helpers.ts';

/** Runs `serve` until it exits, or until it listens (then stops it and reports that it served). */
async function serveOrExit(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<{ served: boolean; status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', NODE_TEST_CONTEXT: '', ...env },
  });
  const exited = once(child, 'exit');
  let stderr = '';
  let served = false;
  for await (const line of createInterface({ input: child.stderr })) {
    stderr += `${line}\n`;
    if (line.includes('tokenmeter serving')) {
      served = true;
      child.kill('SIGTERM');
    }
  }
  const [status] = await exited;
  return { served, status: status as number | null, stderr };
}

describe('keys and serve', () => {
  const dir = tempDir();

  it('keys create prints the key once, stores only its hash, and revoke is immediate', async () => {
    const db = freshDb(dir);
    const created = runJson(['keys', 'create', '--name', 'billing backend', '--scope', 'app'], db);
    const key = String(created.key);
    assert.match(key, /^tm_app_/);
    const listed = runJson(['keys', 'list'], db);
    assert.equal(JSON.stringify(listed).includes(key), false, 'list never shows the key');
    const file = db.replace(/^sqlite:/, '');
    const raw = new DatabaseSync(file);
    const dump = JSON.stringify(raw.prepare('SELECT * FROM api_keys').all());
    raw.close();
    assert.equal(dump.includes(key), false, 'the database holds no plaintext key');
    const revoked = runJson(['keys', 'revoke', String(created.prefix)], db);
    assert.equal(revoked.revoked, 1);
    const again = runCli(['keys', 'revoke', String(created.prefix)], { databaseUrl: db });
    assert.equal(again.status, 1);
    const bad = runCli(['keys', 'create', '--name', 'x', '--scope', 'root'], { databaseUrl: db });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /scope/);
  });

  it('serve listens, answers with a created key, logs its URL, and shuts down on SIGTERM', async () => {
    const db = freshDb(dir);
    const { key } = runJson(['keys', 'create', '--name', 'svc'], db) as { key: string };
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db, LOG_LEVEL: 'info', NODE_TEST_CONTEXT: '' },
    });
    const lines = createInterface({ input: child.stderr });
    let url = '';
    for await (const line of lines) {
      const match = /tokenmeter serving (http:\/\/[^\s"]+)/.exec(line);
      if (match?.[1]) {
        url = match[1];
        break;
      }
    }
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/api/tokens/deduct`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: '7', feature: 'outbound_call_single' }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { balance: number }).balance, 99);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.equal(runJson(['balance', '7'], db).balance, 99);
  });

  it('regression (short bootstrap secrets were silently ignored): serve refuses them at start, naming the variable and its minimum', async () => {
    const cases: [string, string, RegExp][] = [
      ['TOKENMETER_API_KEY', 'tm_app_short', /TOKENMETER_API_KEY.*at least 16 characters/],
      ['TOKENMETER_ADMIN_KEY', 'short-admin', /TOKENMETER_ADMIN_KEY.*at least 16 characters/],
      ['TOKENMETER_SESSION_SECRET', 'too-short-secret', /TOKENMETER_SESSION_SECRET.*at least 32 characters/],
      ['TOKENMETER_API_KEY', 'tm_app_has a space_0123456789', /TOKENMETER_API_KEY.*printable/],
    ];
    for (const [name, value, message] of cases) {
      const run = await serveOrExit(freshDb(dir), { [name]: value });
      assert.equal(run.served, false, `${name}=${value}: the server started anyway`);
      assert.equal(run.status, 1, `${name}=${value}: exit ${run.status}\n${run.stderr}`);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${run.stderr}`);
      assert.match(lines[0] ?? '', message);
      assert.equal(run.stderr.includes(value), false, 'the secret itself is not printed');
    }
  });

  it('serve --demo refuses a non-loopback host', () => {
    const run = runCli(['serve', '--demo', '--host', '0.0.0.0', '--port', '0'], { databaseUrl: freshDb(dir) });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /loopback/);
  });
});
