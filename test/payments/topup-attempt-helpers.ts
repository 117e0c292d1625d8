import assert from 'node:assert/strict';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { TopupAttempt } from '../../src/ledger/topup/auto-topup-ledger.ts';
import type { OffSessionResult } from '../../src/payments/payment-provider.ts';
import type { TestProvider } from '../../src/payments/test-provider.ts';
import { saveCard } from '../helpers/saved-card.ts';

/** How long the worker's claim lasts in these tests: advancing the clock past it makes a claimed intent due again. */
export const LEASE_MS = 60_000;

/**
 * A free account (100 tokens available) with a saved card and auto top-up on below 500 buying
 * `packageId`: enabling records an intent at once.
 */
export async function armedAccount(
  ledger: TokenLedger,
  account: string,
  packageId: string,
  card: { last4?: string; provider?: string } = {},
): Promise<void> {
  await ledger.createAccount({ account });
  await saveCard(ledger, account, card);
  await choosePackage(ledger, account, packageId);
}

/** The user picks another package, nothing else changed (no intent is recorded by it). */
export function choosePackage(ledger: TokenLedger, account: string, packageId: string) {
  return ledger.autoTopup.put({ account, enabled: true, threshold: 500, packageId, monthlyLimit: 100 });
}

/**
 * Claims the due intents and decides the account's, as the worker does; null when it has none due
 * or nothing is to be charged. (Other accounts' intents, left by earlier runs of a property, are
 * claimed and left: due again once the lease runs out.)
 */
export async function beginDue(ledger: TokenLedger, account: string): Promise<TopupAttempt | null> {
  const claimed = (await ledger.autoTopup.claimDue(100, LEASE_MS)).find((i) => i.account === account);
  return claimed ? ledger.autoTopup.begin(claimed) : null;
}

/** `beginDue` that must start an attempt. */
export async function mustBegin(ledger: TokenLedger, account: string): Promise<TopupAttempt> {
  const attempt = await beginDue(ledger, account);
  assert.ok(attempt, `an attempt of ${account} starts`);
  return attempt;
}

/** The worker's charge of an attempt through the offline provider (its payment id remembered as the worker does). */
export function chargeWith(provider: TestProvider, ledger: TokenLedger, a: TopupAttempt): Promise<OffSessionResult> {
  return provider.chargeOffSession({
    account: a.account,
    intent: a.intent,
    attempt: a.attempt,
    idempotencyKey: a.idempotencyKey,
    method: a.method,
    package: a.package,
    paymentId: a.paymentId,
    remember: (id) => ledger.autoTopup.remember(a, id),
  });
}

let seq = 0;
/** Applies a provider's event (by default Stripe's webhook) with a new event id. */
export function applyEvent(ledger: TokenLedger, command: PaymentCommand, provider = 'stripe') {
  return ledger.payments.applyEvent({
    provider,
    eventId: `evt_topup_${process.pid}_${++seq}`,
    eventType: command.type,
    command,
  });
}

/** The account's events of these types, oldest first. */
export async function eventsOf(ledger: TokenLedger, account: string, types: readonly string[]) {
  const events = await ledger.store.service.accountEvents(account, { before: null, limit: 1000 });
  return events.reverse().filter((e) => types.includes(e.type));
}
