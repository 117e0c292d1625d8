import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import { catalog } from '../helpers/ledger.ts';

interface Line {
  level: number;
  msg: string;
}

describe('engine logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-log-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // The worker store runs deductions in its writer's thread: the lines are still this thread's.
  for (const [name, make] of [
    ['in-thread', (path: string) => new SqliteStore({ path })],
    ['worker thread', (path: string) => new SqliteWorkerStore({ path })],
  ] as const) {
    it(`logs each deduction in the seed format, each provisioning once, and warns on a refusal at zero (${name})`, async () => {
      const lines: Line[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
          done();
        },
      });
      const store = make(join(dir, `log-${name}.db`));
      await store.migrate();
      const ledger = new TokenLedger({ store, catalog, logger: pino({ level: 'info' }, sink) });
      await ledger.deduct({ account: '7', feature: 'outbound_call_single' });
      await ledger.deduct({ account: '7', feature: 'outbound_call_single' });
      await ledger.adjust({ account: '7', setBalance: 0, reason: 'test', actor: 't' });
      await ledger.deduct({ account: '7', feature: 'outbound_call_single' });
      await ledger.close();

      const msgs = lines.map((l) => l.msg);
      assert.equal(msgs.filter((m) => m.startsWith('Provisioned account 7')).length, 1);
      assert.ok(msgs.includes('Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99'));
      assert.ok(msgs.includes('Deducted 1 tokens from user 7 (outbound_call_single). Balance: 99 → 98'));
      const refusal = lines.find((l) => l.msg.startsWith('Insufficient tokens. Your balance is 0.'));
      assert.equal(refusal?.level, 40, 'a refusal at zero is a warning');
    });
  }
});
