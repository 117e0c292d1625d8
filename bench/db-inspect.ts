// Read-only SQL over the ledger tables, for the checks after a run: the benchmark reads the
// database itself rather than trusting the code it measures.
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';

export interface AccountFigures {
  balance: number;
  available: number;
}

export interface DbInspector {
  accounts(): Promise<Map<string, AccountFigures>>;
  /** (account, idempotency key) pairs with more than one ledger entry. */
  duplicateKeys(): Promise<number>;
  /** Ledger entries of kind debit. */
  debits(): Promise<number>;
  /** Accounts with a negative bucket, balance or available figure. */
  negatives(): Promise<number>;
  close(): Promise<void>;
}

const ACCOUNTS =
  'SELECT id, allocation + purchased AS balance, allocation + purchased - held AS available FROM accounts';
const DUPLICATES = `SELECT count(*) AS n FROM (SELECT account_id, idempotency_key FROM ledger_entries
  WHERE idempotency_key IS NOT NULL GROUP BY account_id, idempotency_key HAVING count(*) > 1) d`;
const DEBITS = "SELECT count(*) AS n FROM ledger_entries WHERE kind = 'debit'";
const NEGATIVES =
  'SELECT count(*) AS n FROM accounts WHERE allocation < 0 OR purchased < 0 OR held < 0 OR allocation + purchased - held < 0';

export function sqliteInspector(path: string): DbInspector {
  const db = new DatabaseSync(path, { readOnly: true });
  const count = (sql: string) => Number((db.prepare(sql).get() as { n: number | bigint }).n);
  return {
    async accounts() {
      const rows = db.prepare(ACCOUNTS).all() as { id: string; balance: number; available: number }[];
      return new Map(rows.map((r) => [r.id, { balance: Number(r.balance), available: Number(r.available) }]));
    },
    duplicateKeys: async () => count(DUPLICATES),
    debits: async () => count(DEBITS),
    negatives: async () => count(NEGATIVES),
    async close() {
      db.close();
    },
  };
}

export async function pgInspector(url: string): Promise<DbInspector> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? Number.NaN);
  return {
    async accounts() {
      const { rows } = await client.query<{ id: string; balance: string; available: string }>(ACCOUNTS);
      return new Map(rows.map((r) => [r.id, { balance: Number(r.balance), available: Number(r.available) }]));
    },
    duplicateKeys: () => count(DUPLICATES),
    debits: () => count(DEBITS),
    negatives: () => count(NEGATIVES),
    close: () => client.end(),
  };
}

/** The database agrees with the model: balances, debit count, no duplicates, no negatives, no drift. */
export async function checkDatabase(
  db: DbInspector,
  expected: { balances: Map<string, number>; debits: number },
  drift: readonly unknown[],
): Promise<string[]> {
  const problems: string[] = [];
  if (drift.length > 0) problems.push(`reconcile: ${drift.length} drift(s), first ${JSON.stringify(drift[0])}`);
  const negatives = await db.negatives();
  if (negatives > 0) problems.push(`${negatives} account(s) with a negative figure`);
  const duplicates = await db.duplicateKeys();
  if (duplicates > 0) problems.push(`${duplicates} idempotency key(s) with more than one ledger entry`);
  const debits = await db.debits();
  if (debits !== expected.debits) problems.push(`debit entries: ${debits}, expected ${expected.debits}`);
  const stored = await db.accounts();
  let wrong = 0;
  for (const [id, balance] of expected.balances) {
    const actual = stored.get(id)?.balance;
    if (actual !== balance) {
      if (wrong < 3) problems.push(`account ${id}: balance ${actual}, expected ${balance}`);
      wrong++;
    }
  }
  if (wrong > 3) problems.push(`... ${wrong} accounts in all with a wrong balance`);
  return problems;
}
