import type { PaymentCommand } from '../../core/payment-command.ts';

type Json = Record<string, unknown>;

/**
 * A command kept pending, read back from its JSON. Commands stored before disputes were merged
 * by status (`dispute_opened` / `dispute_closed`) and before invoices carried their billing
 * reason are read in today's shape, so an upgrade never strands a waiting event.
 */
export function storedCommand(payload: string): PaymentCommand {
  const c = JSON.parse(payload) as Json;
  if (c.type === 'dispute_opened' || c.type === 'dispute_closed') {
    const won = c.type === 'dispute_closed' && c.won === true;
    return {
      type: 'dispute_changed',
      paymentIntent: String(c.paymentIntent),
      disputeId: String(c.disputeId),
      status: c.type === 'dispute_opened' ? 'open' : won ? 'won' : 'lost',
      // A closed dispute was stored without its amount; the open fact (or the merge's larger amount) keeps it.
      amount: typeof c.amount === 'number' ? c.amount : 0,
    };
  }
  if (c.type === 'invoice_paid' && !('billingReason' in c)) {
    // Before billing reasons were read every paid invoice granted; keep that for what was waiting.
    return {
      ...(c as PaymentCommand & { type: 'invoice_paid' }),
      billingReason: 'subscription_cycle',
      paymentIntent: null,
      amount: null,
      currency: null,
    };
  }
  return c as PaymentCommand;
}
