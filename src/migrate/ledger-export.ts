import type { LedgerEntry } from '../core/entry.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';

const PAGE = 1000;

/**
 * An account's whole ledger, oldest first, without holding it in memory: history pages come
 * newest first, so a first pass walks them keeping only each page's cursor (and the newest
 * page, which a cursor cannot name), then a second pass fetches them again from the oldest
 * and yields each page reversed. Entries written meanwhile are newer than the first page
 * and not part of the export; those before are append-only and cannot change.
 */
export async function* entriesOldestFirst(ledger: TokenLedger, account: string): AsyncGenerator<LedgerEntry> {
  const first = await ledger.history(account, { limit: PAGE });
  const cursors: string[] = [];
  for (let cursor = first.nextCursor; cursor !== null; ) {
    cursors.push(cursor);
    cursor = (await ledger.history(account, { limit: PAGE, cursor })).nextCursor;
  }
  for (const cursor of cursors.reverse()) {
    const page = await ledger.history(account, { limit: PAGE, cursor });
    for (const entry of page.entries.reverse()) yield entry;
  }
  for (const entry of first.entries.reverse()) yield entry;
}
