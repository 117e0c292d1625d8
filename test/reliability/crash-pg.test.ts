// Crash safety on PostgreSQL: `kill -9` the server (not the database) while deductions are in
// flight, restart it on the same database, and check that nothing acknowledged was lost and
// nothing is charged twice. A killed server leaves its connections to PostgreSQL half-done: a
// transaction whose COMMIT was sent may or may not have applied, which the retry with the same
// idempotency key must find out. CRASH_ROUNDS raises the count (the issue asks 20; fast run 3).
import { after, describe, it } from 'node:test';
import { describeCrashLoop, runCrashLoop } from '../helpers/crash-loop.ts';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 3);

describe('kill -9 under load (PostgreSQL)', { skip: await pgSuiteSkip() }, () => {
  let db: TestDatabase | undefined;
  after(() => db?.drop());

  it(`${ROUNDS} crashes: every acknowledged deduction survives once; every lost one, retried with its key, is charged once`, async (t) => {
    db = await createTestDatabase();
    const report = await runCrashLoop(db.url, ROUNDS);
    t.diagnostic(describeCrashLoop(report));
  });
});
