// Crash safety on the embedded store: `kill -9` the server while deductions are in flight,
// restart it on the same file, and check that nothing acknowledged was lost and nothing is
// charged twice. CRASH_ROUNDS raises the count for long runs (the issue asks 20; the fast run 3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeCrashLoop, runCrashLoop } from '../helpers/crash-loop.ts';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);

describe('kill -9 under load (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`${ROUNDS} crashes: every acknowledged deduction survives once; every lost one, retried with its key, is charged once`, async (t) => {
    const report = await runCrashLoop(`sqlite:${join(dir, 'tokens.db')}`, ROUNDS);
    t.diagnostic(describeCrashLoop(report));
  });

  it(`${ROUNDS} crashes through the batch route (8 items a request, one message to the writer's thread): the same`, async (t) => {
    const report = await runCrashLoop(`sqlite:${join(dir, 'batch.db')}`, ROUNDS, { batch: 8 });
    t.diagnostic(describeCrashLoop(report));
  });
});
