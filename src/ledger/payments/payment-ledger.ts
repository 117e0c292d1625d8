import { requireAccountId } from '../../core/account-id.ts';
import type { TokenPackage } from '../../core/catalog.ts';
import { TokenmeterError } from '../../core/errors.ts';
import type { PaymentEvent } from '../../core/payment-command.ts';
import type { PaymentRow, UnmatchedEvent } from '../../store/payment-tx.ts';
import type { TestChargeRow } from '../../store/topup-tx.ts';

export type { PaymentRow, PaymentStatus, UnmatchedEvent } from '../../store/payment-tx.ts';
export type { TestChargeRow } from '../../store/topup-tx.ts';

/**
 * The offline test provider's own books of off-session charges, kept in tokenmeter's database
 * so they outlive a crash as a real provider's do: one charge per idempotency key.
 */
export interface TestChargeBook {
  /** Stores the charge unless one with its key exists; returns the one stored (the first). */
  record(charge: TestChargeRow): Promise<TestChargeRow>;
  find(paymentId: string): Promise<TestChargeRow | undefined>;
  /** An account's charges, oldest first. */
  list(account: string): Promise<TestChargeRow[]>;
}

import type { LedgerContext } from '../context.ts';
import { applyPaymentEvent, type PaymentEventOutcome } from './apply-payment-event.ts';

export interface StartPaymentInput {
  provider: string;
  /** The provider's checkout id. */
  reference: string;
  account: string;
  package: TokenPackage;
}

/**
 * Payments on the ledger: checkouts tokenmeter started, provider events applied exactly once,
 * billing history and the provider customer of each account.
 *
 * @example
 * await ledger.payments.applyEvent({ provider: 'stripe', eventId: 'evt_1', eventType: 'charge.refunded', command });
 */
export class PaymentLedger {
  private readonly ctx: LedgerContext;
  /** The test provider's charges (see `TestChargeBook`). */
  readonly testCharges: TestChargeBook;

  constructor(ctx: LedgerContext) {
    this.ctx = ctx;
    this.testCharges = {
      record: (charge) => ctx.store.write((tx) => tx.topups.recordTestCharge(charge)),
      find: (paymentId) => ctx.store.write((tx) => tx.topups.testCharge(paymentId)),
      list: (account) => ctx.store.write((tx) => tx.topups.testCharges(requireAccountId(account))),
    };
  }

  /** Looks a package up by id; unknown ids are a 400 naming `package`. */
  findPackage(id: string): TokenPackage {
    const pkg = this.ctx.catalog.packages.get(id);
    if (!pkg) throw new TokenmeterError('invalid_request', `Unknown package "${id}"`, 'package');
    return pkg;
  }

  /** Applies a provider event once per event id, in one transaction with its ledger effect. */
  applyEvent(event: PaymentEvent): Promise<PaymentEventOutcome> {
    return applyPaymentEvent(this.ctx, event);
  }

  /** Records a checkout tokenmeter created, pending until its provider reports it paid. */
  async startPayment(input: StartPaymentInput): Promise<void> {
    const account = requireAccountId(input.account);
    const now = this.ctx.clock.now();
    const pkg = input.package;
    await this.ctx.store.write((tx) =>
      tx.payments.insertPayment({
        provider: input.provider,
        reference: input.reference,
        account,
        packageId: pkg.id,
        kind: pkg.kind,
        tokens: pkg.tokens,
        amount: pkg.priceCents,
        currency: pkg.currency.toLowerCase(),
        status: 'pending',
        paymentIntent: null,
        subscriptionId: null,
        receiptUrl: null,
        createdAt: now,
      }),
    );
  }

  /** An account's payments, newest first. */
  history(account: string, limit = 100): Promise<PaymentRow[]> {
    const id = requireAccountId(account);
    // Through a write transaction so the store interface stays one transaction type; it only reads.
    return this.ctx.store.write((tx) => tx.payments.listPayments(id, limit));
  }

  /** Provider events recorded `unmatched`, newest first, each with its reason: for an operator to look into. */
  unmatchedEvents(limit = 100): Promise<UnmatchedEvent[]> {
    return this.ctx.store.write((tx) => tx.payments.unmatchedEvents(limit));
  }

  findPayment(provider: string, reference: string): Promise<PaymentRow | undefined> {
    return this.ctx.store.write((tx) => tx.payments.findPayment(provider, reference));
  }

  customer(account: string, provider: string): Promise<string | undefined> {
    return this.ctx.store.write((tx) => tx.payments.findCustomer(account, provider));
  }

  /** Remembers an account's provider customer; an earlier one wins, and is returned. */
  saveCustomer(account: string, provider: string, customerId: string): Promise<string> {
    return this.ctx.store.write((tx) => tx.payments.saveCustomer(account, provider, customerId, this.ctx.clock.now()));
  }
}
