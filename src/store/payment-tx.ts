import type { DisputeFact, DisputeStatus } from '../core/dispute-status.ts';

/** What a payment is for, and where it stands with its provider. */
export type PaymentStatus = 'pending' | 'paid' | 'canceled' | 'failed' | 'refunded' | 'partially_refunded' | 'disputed';

export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  'pending',
  'paid',
  'canceled',
  'failed',
  'refunded',
  'partially_refunded',
  'disputed',
];

/** How a provider event ended: applied, kept until its payment arrives, ignored, or about nothing tokenmeter knows. */
export type PaymentEventStatus = 'applied' | 'pending' | 'ignored' | 'unmatched';

export interface PaymentRow {
  id: number;
  provider: string;
  /** The provider's checkout (session) id: unique per provider, the purchase entry's reference. */
  reference: string;
  account: string;
  packageId: string;
  kind: 'topup' | 'plan';
  tokens: number;
  /** Minor units (cents). */
  amount: number;
  currency: string;
  status: PaymentStatus;
  paymentIntent: string | null;
  subscriptionId: string | null;
  tokensTakenBack: number;
  amountRefunded: number;
  receiptUrl: string | null;
  createdAt: number;
  updatedAt: number;
}

export type NewPayment = Omit<PaymentRow, 'id' | 'tokensTakenBack' | 'amountRefunded' | 'updatedAt'>;

/** The fields an applied event may move; the rest never change after creation. */
export interface PaymentUpdate {
  status: PaymentStatus;
  paymentIntent: string | null;
  subscriptionId: string | null;
  tokensTakenBack: number;
  amountRefunded: number;
  receiptUrl: string | null;
  updatedAt: number;
}

export interface PaymentEventRecord {
  provider: string;
  eventId: string;
  type: string;
  receivedAt: number;
}

export interface StoredPaymentEvent {
  eventId: string;
  type: string;
  /** The normalized command, as JSON. */
  payload: string;
}

/** A dispute fact to merge into what is stored about it. */
export interface DisputeRecord {
  provider: string;
  disputeId: string;
  paymentIntent: string;
  status: DisputeStatus;
  amount: number;
  now: number;
}

/** A step of what a payment has taken back: written only if nothing moved it since it was read. */
export interface TakeBackUpdate {
  from: number;
  to: number;
  status: PaymentStatus;
  updatedAt: number;
}

/** An event recorded `unmatched`, for an operator. */
export interface UnmatchedEvent {
  provider: string;
  eventId: string;
  type: string;
  reason: string | null;
  receivedAt: number;
}

export interface SubscriptionRow {
  provider: string;
  subscriptionId: string;
  account: string;
  plan: string;
  status: string;
  periodEnd: number | null;
}

/**
 * The payment statements of one write transaction (`tx.payments`): an event id is recorded
 * under the UNIQUE (provider, event_id) key in the same transaction as its ledger effect.
 */
export interface PaymentTx {
  /**
   * Serializes transactions about one payment intent or subscription until commit, so an event
   * kept pending for a payment and the transaction applying that payment cannot miss each other.
   */
  lockKey(provider: string, key: string): Promise<void>;
  /** Records an event id; false when it was already recorded (a repeat delivery). */
  insertEvent(event: PaymentEventRecord): Promise<boolean>;
  finishEvent(
    provider: string,
    eventId: string,
    status: PaymentEventStatus,
    matchKey: string | null,
    payload: string,
    /** Why an `unmatched` event matched nothing. */
    reason?: string | null,
  ): Promise<void>;
  /** Events recorded `unmatched`, newest first, with their reasons. */
  unmatchedEvents(limit: number): Promise<UnmatchedEvent[]>;
  /** Events kept until a payment or subscription with this key arrives, oldest first. */
  pendingEvents(provider: string, matchKeys: readonly string[]): Promise<StoredPaymentEvent[]>;
  /** Inserts a payment; throws (a retryable conflict on PostgreSQL) when the reference exists. */
  insertPayment(payment: NewPayment): Promise<number>;
  findPayment(provider: string, reference: string): Promise<PaymentRow | undefined>;
  findPaymentByIntent(provider: string, paymentIntent: string): Promise<PaymentRow | undefined>;
  updatePayment(id: number, update: PaymentUpdate): Promise<void>;
  /**
   * Raises a payment's cumulative refunded figure to `amountRefunded` (a smaller, late report
   * leaves it) and returns the figure stored.
   */
  recordRefund(id: number, amountRefunded: number, receiptUrl: string | null, now: number): Promise<number>;
  /** Merges a dispute fact by status rank (a closed dispute never reopens) and the larger amount. */
  recordDispute(dispute: DisputeRecord): Promise<void>;
  /** The disputes of a payment intent, each with its latest known status and amount. */
  disputesOf(provider: string, paymentIntent: string): Promise<DisputeFact[]>;
  /** Moves what a payment has taken back from `from` to `to`; throws if another write moved it first. */
  settleTakeBack(id: number, update: TakeBackUpdate): Promise<void>;
  listPayments(account: string, limit: number): Promise<PaymentRow[]>;
  findCustomer(account: string, provider: string): Promise<string | undefined>;
  /** The account a provider customer belongs to. */
  customerAccount(provider: string, customerId: string): Promise<string | undefined>;
  /** Remembers an account's customer; returns the one stored (an earlier one wins a race). */
  saveCustomer(account: string, provider: string, customerId: string, now: number): Promise<string>;
  findSubscription(provider: string, subscriptionId: string): Promise<SubscriptionRow | undefined>;
  /** Inserts or updates a subscription; an ended one (`ENDED_SUBSCRIPTION_STATUSES`) is left as it is. */
  upsertSubscription(row: SubscriptionRow, now: number): Promise<void>;
  /**
   * Moves a live subscription to the ended `status`; false when it had ended already, so of the
   * events that end a subscription only the first acts.
   */
  endSubscription(provider: string, subscriptionId: string, status: string, now: number): Promise<boolean>;
}
