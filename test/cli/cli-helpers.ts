import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** The project root, where `src/cli/main.ts` lives. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const MAIN = path.join(ROOT, 'src/cli/main.ts');

export const ZERO_MESSAGE =
  'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export type Json = { [key: string]: unknown };

/** A fresh temp dir for one test file, removed when the file's tests end. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-cli-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let dbCounter = 0;
/** A DATABASE_URL naming a new database file in `dir`. */
export function freshDb(dir: string): string {
  dbCounter += 1;
  return `sqlite:${path.join(dir, `t-${dbCounter}.db`)}`;
}

/** Runs `tokenmeter <args>` as a real child process on Node 24. */
export function runCli(
  args: readonly string[],
  options: { databaseUrl: string; env?: Record<string, string>; cwd?: string },
): CliRun {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: options.databaseUrl, LOG_LEVEL: 'info' };
  delete env.TOKENMETER_CONFIG;
  delete env.NODE_TEST_CONTEXT;
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...env, ...options.env },
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The one JSON document on stdout (JSON.parse fails on anything more or less). */
export function parseJson(run: CliRun): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(run.stdout);
  } catch (err) {
    assert.fail(`stdout is not one JSON document (${String(err)}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
  assert.ok(typeof doc === 'object' && doc !== null && !Array.isArray(doc), 'the document is an object');
  return doc as Json;
}

/** Runs with --json, asserts the exit code, and returns the document. */
export function runJson(args: readonly string[], databaseUrl: string, status = 0): Json {
  const run = runCli([...args, '--json'], { databaseUrl });
  assert.equal(
    run.status,
    status,
    `exit ${run.status} for ${args.join(' ')}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
  );
  return parseJson(run);
}

/** Asserts a run failed with exit 1, a one-line `error:` message containing `fragment`, and nothing on stdout. */
export function assertFails(run: CliRun, fragment: string): void {
  assert.equal(run.status, 1, `expected exit 1, got ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  assert.equal(run.stdout, '', 'nothing on stdout');
  assert.match(run.stderr, /^error: /m);
  assert.ok(run.stderr.includes(fragment), `stderr should mention ${JSON.stringify(fragment)}:\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}
