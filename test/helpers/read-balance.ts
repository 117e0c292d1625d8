// Reads one account's balance in a fresh process, as an app restarted after a deploy would.
import { openLedger } from '../../src/ledger/open-ledger.ts';

const [url, account] = process.argv.slice(2);
if (!url || !account) throw new Error('usage: read-balance <database-url> <account>');
const ledger = await openLedger({ databaseUrl: url, env: {} });
const view = await ledger.getBalance(account);
await ledger.close();
process.stdout.write(
  `${JSON.stringify({ balance: view.balance, usedThisCycle: view.usedThisCycle, plan: view.plan })}\n`,
);
