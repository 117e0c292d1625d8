// Waiting for the events feed to show everything already committed. On PostgreSQL the feed shows
// an event only once no transaction older than its own is still open anywhere on the server
// (`settledEvent` in src/store/sql-dialect.ts), so that a reader never skips one that commits
// later with a lower position; a transaction left open in another database on the same server
// (another test, a benchmark) holds the newest events back for a while. An event written now
// can show only after every transaction that committed before it began, so once a marker shows,
// so does every earlier event.
import { call, type Json } from './server-call.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes a marker event (opening `account`, which must be new, at a balance of 0: its opening
 * tokens depleted) and polls the feed until it shows. The account keeps balance 0.
 */
export async function feedSettled(server: string, account: string, timeoutMs = 30_000): Promise<void> {
  const made = await call(server, 'POST', `/api/admin/accounts/${account}/adjust`, {
    as: 'admin',
    body: { balance: 0, reason: 'marker: the events feed has settled once this shows' },
  });
  if (made.status !== 200) throw new Error(`feed marker on ${account}: ${made.status} ${JSON.stringify(made.body)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call(server, 'GET', `/api/events?account=${encodeURIComponent(account)}&limit=1`);
    if (((r.body.events as Json[] | undefined) ?? []).length > 0) return;
    if (Date.now() > deadline) throw new Error(`the feed did not show the marker on ${account} in ${timeoutMs} ms`);
    await pause(25);
  }
}
