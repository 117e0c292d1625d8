import { afterEach, beforeEach, describe } from 'node:test';
import type { ManualClock } from '../../src/core/clock.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { backends, type TestStore } from './backends.ts';
import { ledgerOn } from './ledger.ts';

export interface SuiteContext {
  db: TestStore;
  ledger: TokenLedger;
  clock: ManualClock;
}

/** Group commit on (the default) and off: every rule must hold both ways. */
const MODES = [
  { name: 'group commit', groupCommit: undefined },
  { name: 'one tx per op', groupCommit: false },
] as const;

/**
 * Declares `body` once per backend and group-commit mode: each test gets a fresh database, a
 * ledger over it and a manual clock, so the same assertions hold every store to the same rules.
 */
export function conformance(title: string, body: (get: () => SuiteContext) => void): void {
  for (const backend of backends()) {
    for (const mode of MODES) {
      describe(`${title} [${backend.name}, ${mode.name}]`, () => {
        let current: SuiteContext | undefined;
        beforeEach(async () => {
          const db = await backend.open();
          current = { db, ...ledgerOn(db.store, undefined, mode.groupCommit) };
        });
        afterEach(async () => {
          await current?.ledger.close();
          await current?.db.cleanup();
          current = undefined;
        });
        body(() => {
          if (!current) throw new Error('suite context used outside a test');
          return current;
        });
      });
    }
  }
}
