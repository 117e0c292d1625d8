import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { DeductionEvidence } from '../../src/core/deduction-evidence.ts';
import { parseDeductionLine } from '../../src/core/deduction-line.ts';
import {
  type EvidenceItem,
  planRecovery,
  type RecoveredLine,
  type RecoveryClaim,
  spendingIn,
} from '../../src/core/recovery.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { evidenceReference, lineKeys } from '../../src/migrate/evidence-reference.ts';
import { recover } from '../../src/migrate/recover.ts';
import { emptyScan } from '../../src/migrate/scan-logs.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { catalog, ledgerOn } from '../helpers/ledger.ts';

const START = Date.parse('2025-11-04T09:00:00Z');
const MINUTE = 60_000;
const OPENING = 100;

/** The evidence: timestamped deductions (one a minute, 1–3 tokens) and untimed lines repeated 1–3 times. */
interface Evidence {
  timed: number[];
  untimed: { tokens: number; copies: number }[];
}

/** One run: which of the lines its logs hold, and its window (in minutes; null is open). */
interface Run {
  timed: boolean[];
  untimedCopies: number[];
  since: number | null;
  until: number | null;
}

const evidenceArb: fc.Arbitrary<Evidence> = fc.record({
  timed: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 20 }),
  untimed: fc.array(fc.record({ tokens: fc.integer({ min: 1, max: 3 }), copies: fc.integer({ min: 1, max: 3 }) }), {
    maxLength: 2,
  }),
});

function runArb(e: Evidence): fc.Arbitrary<Run> {
  const n = e.timed.length;
  const bound = fc.option(fc.integer({ min: 0, max: n }), { nil: null });
  return fc
    .record({
      timed: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      untimedCopies: fc.tuple(...e.untimed.map((u) => fc.integer({ min: 0, max: u.copies }))),
      since: bound,
      until: bound,
    })
    .map((r) => ({ ...r, untimedCopies: [...r.untimedCopies] }));
}

const scenarioArb = evidenceArb.chain((e) =>
  fc.record({ evidence: fc.constant(e), runs: fc.array(runArb(e), { minLength: 1, maxLength: 5 }) }),
);

/** The seed's broken log: every line says "Balance: 100 → 99", whatever it deducted. */
function line(account: string, tokens: number, minute: number | null): string {
  const body = `[INFO] [TOKENS] Deducted ${tokens} tokens from user ${account} (outbound_call_single). Balance: 100 → 99`;
  return minute === null ? body : `${new Date(START + minute * MINUTE).toISOString()} ${body}`;
}

/** The logs one run reads (null: all of them). */
function evidenceOf(account: string, e: Evidence, run: Run | null): DeductionEvidence {
  const evidence = new DeductionEvidence();
  evidence.nextFile();
  const add = (text: string) => {
    const parsed = parseDeductionLine(text);
    if (parsed.kind !== 'deduction') throw new Error(`not a deduction: ${text}`);
    evidence.add(text, parsed.deduction);
  };
  e.timed.forEach((tokens, minute) => {
    if (run === null || run.timed[minute]) add(line(account, tokens, minute));
  });
  e.untimed.forEach((u, i) => {
    const copies = run === null ? u.copies : (run.untimedCopies[i] ?? 0);
    // The feature name tells the untimed lines apart.
    for (let c = 0; c < copies; c++) add(line(account, u.tokens, null).replace('outbound_call_single', `f${i}`));
  });
  return evidence;
}

const at = (minute: number | null) => (minute === null ? null : START + minute * MINUTE);

/** What the union of the runs' counted deductions spent: each deduction once. */
function unionSpent(e: Evidence, runs: readonly Run[]): number {
  let spent = 0;
  e.timed.forEach((tokens, minute) => {
    const counted = runs.some(
      (r) => r.timed[minute] && (r.since === null || minute >= r.since) && (r.until === null || minute < r.until),
    );
    if (counted) spent += tokens;
  });
  e.untimed.forEach((u, i) => {
    spent += u.tokens * Math.max(0, ...runs.map((r) => r.untimedCopies[i] ?? 0));
  });
  return spent;
}

/** A claim as `recover` makes it, for the pure property. */
function claimOf(account: string, e: Evidence, run: Run | null, openedWith: number): RecoveryClaim {
  const spending = spendingIn(evidenceOf(account, e, run).linesOf(account), {
    since: at(run?.since ?? null),
    until: at(run?.until ?? null),
  });
  const items: EvidenceItem[] = spending.counted.flatMap((l) =>
    lineKeys(l).map((key) => ({ key, tokens: l.deduction.tokens, at: l.deduction.at })),
  );
  return {
    account,
    opening: OPENING,
    openingGiven: false,
    openingAt: null,
    openedWith,
    firstBalance: spending.firstBalance,
    items,
    unrecorded: 'none',
  };
}

describe('item 15 (property): recover runs over any subsets and windows never count a line twice', () => {
  it('planRecovery: the running total always equals opening − openedWith − the union spent; a last full run ends where one full run would', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 150 }), ({ evidence, runs }, openedWith) => {
        const recorded: RecoveredLine[] = [];
        let total = 0;
        const applyRun = (run: Run | null, done: readonly Run[]) => {
          const plan = planRecovery(claimOf('7', evidence, run, openedWith), recorded);
          if (plan.record.length > 0) {
            total += plan.correction;
            for (const r of plan.record) recorded.push({ ...r, entryId: null, recoveredAt: 0 });
          }
          const keys = recorded.map((r) => r.key);
          assert.equal(new Set(keys).size, keys.length, 'a key recorded twice');
          if (recorded.length > 0) assert.equal(total, OPENING - openedWith - unionSpent(evidence, done));
        };
        runs.forEach((run, i) => {
          applyRun(run, runs.slice(0, i + 1));
        });
        applyRun(null, [
          ...runs,
          {
            timed: evidence.timed.map(() => true),
            untimedCopies: evidence.untimed.map((u) => u.copies),
            since: null,
            until: null,
          },
        ]);
        const once = planRecovery(claimOf('7', evidence, null, openedWith), []);
        assert.equal(total, once.correction);
      }),
      { numRuns: 300 },
    );
  });

  for (const backend of backends()) {
    describe(`recover() on ${backend.name}`, () => {
      let db: TestStore;
      let ledger: TokenLedger;
      let next = 0;
      before(async () => {
        db = await backend.open();
        ledger = ledgerOn(db.store).ledger;
      });
      after(async () => {
        await ledger.close();
        await db.cleanup();
      });

      it('a recovery applied before lines were recorded: the same evidence is already applied, other evidence waits for review', async () => {
        const account = 'legacy';
        await ledger.importAccount({ account, plan: catalog.defaultPlan, balance: OPENING });
        const e: Evidence = { timed: [1, 1, 1], untimed: [] };
        const full = evidenceOf(account, e, null);
        const v1 = evidenceReference(
          account,
          OPENING,
          spendingIn(full.linesOf(account), { since: null, until: null }).counted,
        );
        const link = { source: 'recover', reference: v1 };
        await ledger.adjust({ account, amount: -3, reason: 'recovered by an older tokenmeter', actor: 'ops', ...link });
        const options = { since: null, until: null, opening: null, account, apply: { reason: 'again', actor: 'test' } };
        const same = (await recover(ledger, scanOf(full), options)).accounts[0];
        assert.deepEqual([same?.status, same?.correction], ['already_applied', 0]);
        const fewer = { timed: [true, false, true], untimedCopies: [], since: null, until: null };
        const other = (await recover(ledger, scanOf(evidenceOf(account, e, fewer)), options)).accounts[0];
        assert.deepEqual([other?.status, other?.review], ['needs_review', 'unrecorded_recovery']);
        assert.equal((await ledger.getBalance(account)).balance, OPENING - 3);
      });

      it('two overlapping runs at once, from two stores, still count each line once', async () => {
        const account = 'race';
        await ledger.importAccount({ account, plan: catalog.defaultPlan, balance: OPENING });
        const e: Evidence = { timed: Array.from({ length: 10 }, () => 1), untimed: [] };
        // Two in-thread SQLite stores in one process would wait for each other's lock on one
        // thread; SQLite writers are serialized anyway. The worker-thread store and PostgreSQL get
        // a second store, as a second process would.
        const other = backend.name === 'sqlite-inline' ? ledger : ledgerOn(await db.reopen()).ledger;
        const options = (since: number) => ({
          since: at(since),
          until: null,
          opening: null,
          account,
          apply: { reason: 'race', actor: 'test' },
        });
        await Promise.all([
          recover(ledger, scanOf(evidenceOf(account, e, null)), options(0)),
          recover(other, scanOf(evidenceOf(account, e, null)), options(5)),
        ]);
        if (other !== ledger) await other.close();
        assert.equal((await ledger.getBalance(account)).balance, OPENING - 10);
      });

      it('the database itself refuses a line recorded twice for an account', async () => {
        const row = { account: 'dup', key: 'sha256:00:1', tokens: 1, at: null, entryId: null, recoveredAt: 0 };
        await db.store.write((tx) => tx.recovery.insertRecoveredLines([row]));
        await assert.rejects(db.store.write((tx) => tx.recovery.insertRecoveredLines([{ ...row, tokens: 2 }])));
        await db.store.write((tx) => tx.recovery.insertRecoveredLines([{ ...row, account: 'other' }]));
        const rows = await db.store.write((tx) => tx.recovery.recoveredLines('dup'));
        assert.deepEqual(rows, [row]);
      });

      it('after each applied run the balance is 100 − the union spent; a last full run ends at 100 − all spent', async () => {
        await fc.assert(
          fc.asyncProperty(scenarioArb, async ({ evidence, runs }) => {
            next += 1;
            const account = `p${next}`;
            const imported = await ledger.importAccount({ account, plan: catalog.defaultPlan, balance: OPENING });
            assert.equal(imported.status, 'imported');
            const run = async (r: Run | null) => {
              const scan = scanOf(evidenceOf(account, evidence, r));
              const report = await recover(ledger, scan, {
                since: at(r?.since ?? null),
                until: at(r?.until ?? null),
                opening: null,
                account,
                apply: { reason: 'property', actor: 'test' },
              });
              return report.accounts[0];
            };
            for (let i = 0; i < runs.length; i++) {
              const r = runs[i];
              if (!r) continue;
              await run(r);
              const balance = (await ledger.getBalance(account)).balance;
              assert.equal(balance, OPENING - unionSpent(evidence, runs.slice(0, i + 1)), `after run ${i + 1}`);
            }
            const last = await run(null);
            const total =
              evidence.timed.reduce((s, t) => s + t, 0) + evidence.untimed.reduce((s, u) => s + u.tokens * u.copies, 0);
            assert.equal((await ledger.getBalance(account)).balance, OPENING - total);
            assert.equal(last?.expected, OPENING - total);
            const again = await run(null);
            assert.equal(again?.status, 'already_applied');
          }),
          { numRuns: backend.name === 'sqlite' ? 40 : 15 },
        );
        assert.deepEqual((await ledger.reconcile()).drift, []);
      });
    });
  }
});

const scanOf = emptyScan;
