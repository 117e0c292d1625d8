// The bank workload's check of the outbox: for each account, the balance events read back from
// `GET /api/events` must tell exactly the crossings of zero its balance made (depleted and
// recovered alternating, from the opening figure to the final one), each event's figures must fit
// its type, and its sequence must run 1, 2, 3... An event for a refused or rolled-back operation
// would break the alternation; a committed crossing without its event would end on the wrong side.
// Automatic top-ups (bank-topups.ts) add `topup.*` and `purchase.completed` events to the same
// sequence: each top-up that succeeded has exactly one `topup.succeeded` of the package's tokens,
// the saved test card is never declined, and the monthly cap is announced at most once.
import { call, type Json } from './server-call.ts';

/** An event as the feed shows it, with the data fields the bank's checks read. */
export interface FeedEvent {
  type: string;
  sequence: number;
  data: {
    available?: number;
    threshold?: number;
    tokens?: number;
    pool?: string;
    member?: string;
    limit?: number;
  };
}

/** The top-ups each account had (intents that succeeded), and the tokens each credits. */
export interface ExpectedTopups {
  counts: ReadonlyMap<string, number>;
  tokens: number;
}

function checkTopupEvents(account: string, events: FeedEvent[], expected: ExpectedTopups, problems: string[]): void {
  const of = (type: string) => events.filter((e) => e.type === type);
  const succeeded = of('topup.succeeded');
  const count = expected.counts.get(account) ?? 0;
  if (succeeded.length !== count) {
    problems.push(`${account}: ${succeeded.length} topup.succeeded events for ${count} top-ups`);
  }
  for (const e of succeeded) {
    if (e.data.tokens !== expected.tokens) {
      problems.push(`${account}: topup.succeeded #${e.sequence} of ${e.data.tokens} tokens`);
    }
  }
  for (const type of ['topup.failed', 'topup.suspended']) {
    for (const e of of(type)) problems.push(`${account}: ${type} #${e.sequence}, but its card is never declined`);
  }
  if (of('topup.limit_reached').length > 1) problems.push(`${account}: the monthly limit announced more than once`);
}

/** Every event of `account` in the feed, oldest first; a failed read is a problem. */
export async function eventsOf(server: string, account: string, problems: string[]): Promise<FeedEvent[]> {
  const events: FeedEvent[] = [];
  let after = '0';
  for (;;) {
    const r = await call(server, 'GET', `/api/events?account=${encodeURIComponent(account)}&after=${after}&limit=1000`);
    if (r.status !== 200) {
      problems.push(`events of ${account}: ${r.status} ${JSON.stringify(r.body)}`);
      return events;
    }
    const page = (r.body.events as FeedEvent[] | undefined) ?? [];
    events.push(...page);
    if (page.length < 1000) return events;
    after = String((r.body as Json).next_cursor);
  }
}

/**
 * Violations of the events' rules, for every account (opening: each account's available at the
 * start, above 0); with `topups`, also of the top-up events.
 */
export async function checkBankEvents(
  server: string,
  accounts: readonly string[],
  opening: number,
  topups?: ExpectedTopups,
): Promise<string[]> {
  const problems: string[] = [];
  for (const account of accounts) {
    const events = await eventsOf(server, account, problems);
    if (topups) checkTopupEvents(account, events, topups, problems);
    events.forEach((e, i) => {
      if (e.sequence !== i + 1) problems.push(`${account}: event ${i + 1} has sequence ${e.sequence}`);
      const a = e.data.available ?? Number.NaN;
      if (e.type === 'balance.depleted' && !(a <= 0)) problems.push(`${account}: depleted at ${a}`);
      if (e.type === 'balance.recovered' && !(a > 0)) problems.push(`${account}: recovered at ${a}`);
      if (e.type === 'balance.low' && !(a > 0 && a < (e.data.threshold ?? 0))) {
        problems.push(`${account}: low at ${a} (threshold ${e.data.threshold})`);
      }
    });
    let enabled = opening > 0;
    for (const e of events) {
      if (e.type === 'balance.depleted' || e.type === 'balance.recovered') {
        const expected = enabled ? 'balance.depleted' : 'balance.recovered';
        if (e.type !== expected) problems.push(`${account}: ${e.type} #${e.sequence} where ${expected} was due`);
        enabled = e.type === 'balance.recovered';
      }
    }
    const r = await call(server, 'GET', `/api/tokens/balance?account=${encodeURIComponent(account)}`);
    const available = typeof r.body.available === 'number' ? r.body.available : Number.NaN;
    if (Number.isNaN(available)) problems.push(`balance of ${account}: ${r.status}`);
    else if (available > 0 !== enabled) {
      problems.push(
        `${account}: available ${available} at the end, but its last crossing event says ${enabled ? 'above' : 'at or below'} zero`,
      );
    }
  }
  return problems;
}
