import { requireAccountId } from '../../core/account-id.ts';
import { availableOf } from '../../core/account-state.ts';
import {
  type AutoTopupSettings,
  armsBelowThreshold,
  retriesAfter,
  settingsAfterFailure,
  settingsAfterNewCard,
  settingsAfterSuccess,
} from '../../core/auto-topup.ts';
import { decideCredit } from '../../core/credit.ts';
import type { PaymentCommand } from '../../core/payment-command.ts';
import { aboutCurrentAttempt, chargeOfPackage, paidAsCharged, type TopupCharge } from '../../core/topup-charge.ts';
import type { WriteTx } from '../../store/store.ts';
import type { TopupIntent } from '../../store/topup-tx.ts';
import type { WorkingAccount } from '../working-account.ts';
import { applied, type EffectResult, unmatchedBecause } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';

type TopupPaid = Extract<PaymentCommand, { type: 'topup_paid' }>;
type TopupFailed = Extract<PaymentCommand, { type: 'topup_failed' }>;
type MethodSaved = Extract<PaymentCommand, { type: 'payment_method_saved' }>;

/** Saves settings only when they changed (each save re-arms the account's threshold in the database). */
async function saveIfChanged(tx: WriteTx, before: AutoTopupSettings, after: AutoTopupSettings): Promise<void> {
  if (after !== before) await tx.topups.saveSettings(after);
}

/**
 * An automatic top-up's charge succeeded (the worker's own answer from the provider, or the
 * provider's webhook, whichever comes first): the payment is recorded and its package credited
 * as a purchase through the same path as a checkout, once: the payment row (UNIQUE provider and
 * reference) and the purchase entry (UNIQUE reference) are found by whichever comes second.
 * Money received is always credited, whatever became of the intent meanwhile, but only for what
 * was charged: the tokens of the charge fixed when its attempt started, and only when the payment
 * is that package at exactly that price, for the intent's own account. Anything else is recorded
 * `unmatched` for an operator (and ends the attempt it is about: asking the provider again would
 * only hear the same answer).
 */
export async function topupPaid(s: PaymentSession, c: TopupPaid): Promise<EffectResult> {
  const found = await s.tx.topups.intent(c.intent);
  if (!found) return unmatchedBecause('unknown_payment');
  if (c.account !== found.account) return unmatchedBecause('unknown_account');
  const working = await s.account(found.account);
  const known = await s.tx.payments.findPayment(s.provider, c.paymentId);
  if (known && known.status !== 'pending') return applied(found.account);
  // Re-read under the account's lock: the worker and a webhook may report the same attempt.
  const intent = (await s.tx.topups.intent(c.intent)) ?? found;
  const current = aboutCurrentAttempt(intent, c);
  const charge = current && intent.charge ? intent.charge : chargeOfTopup(s, c.packageId);
  if (!charge) return unmatchedBecause('unknown_package', intent.account);
  if (!paidAsCharged(charge, c)) {
    if (current) await endAttempt(s, intent, 'price_mismatch');
    return unmatchedBecause('price_mismatch', intent.account);
  }
  const pkg = s.catalog.packages.get(charge.packageId);
  const name = pkg?.name ?? charge.packageId;
  if (!known) {
    await s.tx.payments.insertPayment({
      provider: s.provider,
      reference: c.paymentId,
      account: intent.account,
      packageId: charge.packageId,
      kind: 'topup',
      tokens: charge.tokens,
      amount: c.amount,
      currency: c.currency.toLowerCase(),
      status: 'pending',
      paymentIntent: null,
      subscriptionId: null,
      receiptUrl: null,
      createdAt: s.now,
    });
  }
  const row = await s.tx.payments.findPayment(s.provider, c.paymentId);
  if (!row) throw new Error(`payment ${c.paymentId} vanished after insert`);
  await s.tx.payments.updatePayment(row.id, { ...row, status: 'paid', paymentIntent: c.paymentId, updatedAt: s.now });
  if (!(await s.hasEntry('purchase', c.paymentId))) {
    const link = { source: s.provider, reference: c.paymentId, reason: `Automatic top-up: ${name}`, actor: null };
    const expiresAt = pkg?.expiresInDays ? s.now + pkg.expiresInDays * 86_400_000 : null;
    working.apply(decideCredit(working.state, row.tokens, 'purchase', link, s.now, expiresAt));
  }
  const money = { account: intent.account, payment_id: String(row.id), tokens: row.tokens, amount: row.amount };
  working.emit('purchase.completed', { ...money, package: charge.packageId, currency: row.currency });
  working.emit('topup.succeeded', { ...money, currency: row.currency });
  if (intent.status !== 'succeeded') {
    await s.tx.topups.updateIntent(intent.id, {
      status: 'succeeded',
      provider: s.provider,
      paymentId: c.paymentId,
      claim: null,
      nextAttemptAt: null,
      error: null,
      settledAt: s.now,
      updatedAt: s.now,
    });
  }
  const settings = await s.tx.topups.settings(intent.account);
  if (settings) await saveIfChanged(s.tx, settings, settingsAfterSuccess(settings, s.now));
  // Refunds and disputes of this payment that arrived first were kept pending for it.
  return applied(intent.account, [c.paymentId]);
}

/**
 * What a payment not about the intent's current attempt (an earlier one, or one started before
 * attempts recorded their charge) bought: the top-up package its metadata names, at its price now.
 */
function chargeOfTopup(s: PaymentSession, packageId: string): TopupCharge | null {
  const pkg = s.catalog.packages.get(packageId);
  return pkg?.kind === 'topup' ? chargeOfPackage(pkg) : null;
}

/** Ends the attempt under way that a payment cannot be credited to (kept for an operator, never charged again). */
async function endAttempt(s: PaymentSession, intent: TopupIntent, error: string): Promise<void> {
  if (intent.status !== 'charging') return;
  await s.tx.topups.updateIntent(
    intent.id,
    { status: 'failed', claim: null, nextAttemptAt: null, error, settledAt: s.now, updatedAt: s.now },
    { status: 'charging', attempt: intent.attempt },
  );
}

/**
 * An attempt was declined. Applied once, to the attempt it is about (a late or repeated report of
 * an attempt already settled, or of an earlier attempt, changes nothing: see
 * `aboutCurrentAttempt`): the error is kept, `topup.failed` announced, and the intent either
 * waits for its next try or, when the settings are suspended by this failure (the third in a
 * row, or one that needs the buyer present), ends.
 */
export async function topupFailed(s: PaymentSession, c: TopupFailed): Promise<EffectResult> {
  const found = await s.tx.topups.intent(c.intent);
  if (!found) return unmatchedBecause('unknown_payment');
  const working = await s.account(found.account);
  // Re-read under the account's lock: the worker and a webhook may report the same attempt.
  const intent = await s.tx.topups.intent(c.intent);
  if (intent?.status !== 'charging' || !aboutCurrentAttempt(intent, c)) return applied(found.account);
  const settings = await s.tx.topups.settings(intent.account);
  const after = settings ? settingsAfterFailure(settings, c.reason, s.now) : undefined;
  working.emit('topup.failed', { account: intent.account, reason: c.reason, attempt: intent.attempt });
  if (settings && after) {
    await saveIfChanged(s.tx, settings, after);
    if (settings.status === 'active' && after.status === 'suspended') {
      working.emit('topup.suspended', { account: intent.account, reason: c.reason, failures: after.failures });
    }
  }
  const retry = after !== undefined && retriesAfter(after);
  // A retry is a new attempt with a charge of its own, fixed when it starts.
  await s.tx.topups.updateIntent(
    intent.id,
    retry
      ? {
          status: 'pending',
          charge: null,
          claim: null,
          nextAttemptAt: s.now + s.topupRetryMs,
          error: c.reason,
          updatedAt: s.now,
        }
      : { status: 'failed', claim: null, nextAttemptAt: null, error: c.reason, settledAt: s.now, updatedAt: s.now },
    { status: 'charging', attempt: intent.attempt },
  );
  return applied(intent.account);
}

/**
 * A card saved for off-session charges becomes the account's payment method for auto top-up; a
 * suspended auto top-up becomes active again (and, with available already below its threshold,
 * records an intent at once).
 */
export async function paymentMethodSaved(s: PaymentSession, c: MethodSaved): Promise<EffectResult> {
  const account = await ownerOf(s, c);
  if (account === null || !(await s.exists(account))) return unmatchedBecause('unknown_account');
  const working = await s.account(account);
  await s.tx.topups.saveMethod({
    account,
    provider: s.provider,
    methodId: c.methodId,
    brand: c.brand,
    last4: c.last4,
    savedAt: s.now,
  });
  await reactivate(s, working);
  return applied(account);
}

async function ownerOf(s: PaymentSession, c: MethodSaved): Promise<string | null> {
  if (c.account !== null) {
    try {
      return requireAccountId(c.account);
    } catch {
      return null;
    }
  }
  if (c.customerId === null) return null;
  return (await s.tx.payments.customerAccount(s.provider, c.customerId)) ?? null;
}

async function reactivate(s: PaymentSession, working: WorkingAccount): Promise<void> {
  const settings = await s.tx.topups.settings(working.state.id);
  if (!settings) return;
  const after = settingsAfterNewCard(settings, s.now);
  if (after === settings) return;
  await s.tx.topups.saveSettings(after);
  if (armsBelowThreshold(settings, after, availableOf(working.state))) {
    await s.tx.topups.insertIntent(working.state.id, s.now);
  }
}
