import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { TokenmeterError } from '../../src/core/errors.ts';
import type { GrantInput } from '../../src/ledger/types.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { compareAccount, GrantIds } from './compare-accounts.ts';
import { MODEL_ACCOUNTS, type ModelOp, opArb } from './model-ops.ts';
import { TokenModel } from './token-model.ts';

/** The error code a call threw, or null when it answered. */
async function codeOf(call: () => Promise<unknown>): Promise<string | null> {
  try {
    await call();
    return null;
  } catch (err) {
    if (err instanceof TokenmeterError) return err.code;
    throw err;
  }
}

describe('engine against an independent model (fast-check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let run = 0;

  it('agrees on every result, grant and balance over random operation sequences, and reconciles clean', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('2024-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        fc.array(opArb, { maxLength: 60, size: 'medium' }),
        async (start, ops) => {
          const store = new SqliteStore({ path: join(dir, `run-${run++}.db`), synchronous: 'NORMAL' });
          await store.migrate();
          const { ledger, clock } = ledgerOn(store, start.toISOString());
          const model = new TokenModel(clock.now());
          const ids = new GrantIds();
          const holds: number[] = [];
          // Grants made through ledger.grant: what was asked, for replays, and the model's number.
          const made: { input: GrantInput; seq: number; id: number }[] = [];
          let step = 0;

          const apply = async (o: ModelOp): Promise<void> => {
            const where = JSON.stringify(o);
            if (o.op === 'advance') {
              clock.advance(o.ms);
              model.now = clock.now();
            } else if (o.op === 'deduct' || o.op === 'drain') {
              const feature = o.op === 'deduct' ? o.feature : 'outbound_call_single';
              const quantity = o.op === 'deduct' ? o.quantity : Math.max(1, model.peek(o.account).available + o.offset);
              const real = await ledger.deduct({ account: o.account, feature, quantity });
              const expected = model.deduct(o.account, feature, quantity);
              assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
              if (real.ok && expected.ok) assert.equal(real.balance, expected.balance, where);
              if (!real.ok && !expected.ok) assert.equal(real.message, expected.message, where);
            } else if (o.op === 'credit') {
              const real = await ledger.credit({
                account: o.account,
                tokens: o.tokens,
                source: 'model',
                reference: `c${step}`,
              });
              const expected = model.credit(o.account, o.tokens);
              assert.ok(real.ok && expected.ok, where);
              assert.equal(real.balance, expected.balance, where);
            } else if (o.op === 'adjust') {
              const real = await ledger.adjust({
                account: o.account,
                amount: o.amount,
                reason: 'model',
                actor: 'model',
              });
              const expected = model.adjust(o.account, o.amount);
              assert.ok(real.ok && expected.ok, where);
              assert.equal(real.balance, expected.balance, where);
            } else if (o.op === 'set-balance') {
              const real = await ledger.adjust({
                account: o.account,
                setBalance: o.target,
                reason: 'model',
                actor: 'model',
              });
              const expected = model.setBalance(o.account, o.target);
              assert.ok(real.ok && expected.ok, where);
              assert.deepEqual([real.delta, real.balance], [expected.delta, expected.balance], where);
            } else if (o.op === 'grant') {
              const now = clock.now();
              const cycleEnd = model.cycleEndOf(o.account);
              const expiresAt = o.expiry === null ? null : o.expiry === 'cycle-end' ? cycleEnd : now + o.expiry;
              // Effective strictly before it expires (an expiry not after the start is bad input).
              const effectiveAt =
                o.delay === null || (expiresAt !== null && now + o.delay >= expiresAt) ? undefined : now + o.delay;
              const input: GrantInput = {
                account: o.account,
                tokens: o.tokens,
                category: o.category,
                expiresAt,
                ...(effectiveAt === undefined ? {} : { effectiveAt }),
                ...(o.priority === undefined ? {} : { priority: o.priority }),
                reason: 'model',
                actor: 'model',
                reference: `g${step}`,
              };
              const real = await ledger.grant(input);
              const expected = model.grant(o.account, {
                category: o.category,
                tokens: o.tokens,
                expiresAt,
                ...(effectiveAt === undefined ? {} : { effectiveAt }),
                ...(o.priority === undefined ? {} : { priority: o.priority }),
              });
              assert.deepEqual(
                { status: real.status, remaining: real.remaining, priority: real.priority },
                { status: expected.status, remaining: expected.remaining, priority: expected.priority },
                where,
              );
              ids.pair(expected.seq, real.id, where);
              made.push({ input, seq: expected.seq, id: real.id });
            } else if (o.op === 'regrant') {
              const prior = made[o.pick % Math.max(1, made.length)];
              const expiresAt = prior?.input.expiresAt;
              // A replay after the expiry would be bad input (an expiry already past), not a replay.
              if (!prior || (typeof expiresAt === 'number' && expiresAt <= clock.now())) return;
              if (o.conflict) {
                const code = await codeOf(() => ledger.grant({ ...prior.input, tokens: prior.input.tokens + 1 }));
                assert.equal(code, 'idempotency_conflict', where);
              } else {
                assert.equal((await ledger.grant(prior.input)).id, prior.id, where);
              }
            } else if (o.op === 'void') {
              const all = MODEL_ACCOUNTS.flatMap((id) => model.grants(id));
              const target = all[o.pick % Math.max(1, all.length)];
              const id = target === undefined ? undefined : ids.engine(target.seq);
              if (target === undefined || id === undefined) return;
              const code = await codeOf(() => ledger.voidGrant({ id, reason: 'model', actor: 'model' }));
              const expected = model.voidGrant(target.seq);
              assert.equal(code, expected.ok ? null : 'invalid_request', `${where} (grant ${id})`);
            } else if (o.op === 'reserve') {
              const real = await ledger.reserve({ account: o.account, amount: o.amount, ttlSeconds: o.ttl });
              const expected = model.reserve(o.account, o.amount, o.ttl);
              assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
              if (real.ok && expected.ok) {
                assert.equal(real.holdId, expected.holdId, where);
                holds.push(real.holdId);
              }
            } else if (holds.length > 0) {
              const holdId = holds[o.pick % holds.length] ?? 0;
              if (o.op === 'commit') {
                const real = await ledger.commitHold(holdId, o.actual);
                const expected = model.commit(holdId, o.actual);
                assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
                if (real.ok && expected.ok) assert.equal(real.charged, expected.charged, where);
              } else {
                assert.equal((await ledger.releaseHold(holdId)).ok, model.release(holdId).ok, where);
              }
            }
          };

          try {
            for (const o of ops) {
              await apply(o);
              step += 1;
              const where = `step ${step}: ${JSON.stringify(o)}`;
              for (const id of MODEL_ACCOUNTS) await compareAccount(ledger, model, ids, id, where);
            }
            assert.deepEqual((await ledger.reconcile()).drift, []);
          } finally {
            await ledger.close();
          }
        },
      ),
      { numRuns: Number(process.env.MODEL_RUNS ?? 40) },
    );
  });
});
