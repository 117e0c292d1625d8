import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CliRun, freshDb, parseJson, runCli, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const db = freshDb(dir);

/** Exit 1, nothing on stdout, exactly one line on stderr (`error: …` naming `fragment`), no stack trace. */
function assertOneLine(run: CliRun, fragment: string | RegExp): void {
  assert.equal(run.status, 1, `exit ${run.status}\nstderr:\n${run.stderr}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  const [line = ''] = lines;
  assert.match(line, /^error: /);
  if (typeof fragment === 'string') assert.ok(line.includes(fragment), `${JSON.stringify(fragment)} in ${line}`);
  else assert.match(line, fragment);
  assert.doesNotMatch(run.stderr, /\n\s+at |ERR_|options\.port/);
}

describe('bad options: one line on stderr, exit 1, no stack trace', () => {
  it('serve --port 99999, -1, 1.5, abc, and PORT=99999: refused before anything starts', () => {
    const serve = (port: string) => runCli(['serve', '--port', port], { databaseUrl: db });
    assertOneLine(serve('99999'), 'port: must be between 0 and 65535, got 99999');
    assertOneLine(serve('65536'), 'port: must be between 0 and 65535, got 65536');
    assertOneLine(serve('-1'), 'port: must be between 0 and 65535, got -1');
    assertOneLine(serve('1.5'), 'port: must be an integer, got "1.5"');
    assertOneLine(serve('abc'), 'port: must be an integer, got "abc"');
    assertOneLine(runCli(['serve'], { databaseUrl: db, env: { PORT: '99999' } }), 'PORT: must be between 0 and 65535');
  });

  it("commander's own errors are one line too: unknown command and option, missing argument, bad choice", () => {
    const run = (...args: string[]) => runCli(args, { databaseUrl: db });
    assertOneLine(run('frobnicate'), "unknown command 'frobnicate'");
    assertOneLine(run('balanse', '7'), /unknown command 'balanse'.*Did you mean balance\?/);
    assertOneLine(run('balance'), "missing required argument 'account'");
    assertOneLine(run('balance', '7', 'extra'), 'too many arguments');
    assertOneLine(run('deduct', '7', 'outbound_call_single', '--bogus'), "unknown option '--bogus'");
    assertOneLine(run('deduct', '7', 'outbound_call_single', '--idempotency-key'), 'argument missing');
    assertOneLine(run('export', '--format', 'xml'), /'xml' is invalid/);
    assertOneLine(run('keys', 'create'), "required option '--name <name>' not specified");
    assertOneLine(run('serve', '--port'), "option '--port <n>' argument missing");
    assertOneLine(run('recover', '--logs'), "option '--logs <file...>' argument missing");
    assertOneLine(run('history', '7', '--limit', '0'), 'limit: must be between 1 and 1000, got 0');
    assertOneLine(run('recover', '--logs', 'x.log', '--opening', 'abc'), 'opening: must be an integer, got "abc"');
    assertOneLine(run('keys', 'create', '--name', 'x', '--scope', 'root'), 'scope: must be app or admin');
  });

  it('with --json, a usage error is still one line on stderr and one JSON document on stdout', () => {
    const run = runCli(['balance', '7', '--json', '--bogus'], { databaseUrl: db });
    assert.equal(run.status, 1);
    assert.equal(run.stderr.split('\n').filter(Boolean).length, 1, run.stderr);
    assert.equal(parseJson(run).code, 'invalid_request');
  });
});
